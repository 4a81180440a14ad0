// netwatch's public surface for code that embeds the agent or builds tools around it: start an
// agent from a validated configuration, load and check configurations, the component list, the
// names of every metric, log event and attribute, and the errors a caller can catch. Everything
// else under src/ is internal and may change between versions.

// Run an agent.
export { startAgent, type AgentOptions, type RunningAgent } from './agent';

// Configuration: load agent.yaml (or text), redact secrets, summarize; the frozen config's types.
export { loadConfigFile, parseConfig, redactConfig, REDACTED, summarizeConfig, parseDuration, formatDuration } from './config';
export type { AgentConfig, ExporterConfig, PipelineConfig, ProcessorConfig, ReceiverConfig, ServiceConfig } from './config/types';
export type { Env } from './config/env-substitution';

// Components: every receiver, processor and exporter type, and what a receiver type provides.
export { EXPORTERS, PROCESSORS, RECEIVERS, type ReceiverType } from './components';
export type { ReceiverFactory } from './receivers/factory';
export type { Receiver, ReceiverContext } from './receivers/receiver';
export type { ProbeStats } from './kernel/probe-stats';
export type { ConnectionsReceiverConfig } from './receivers/connections/config';
export type { SniReceiverConfig } from './receivers/sni/config';
export type { PacketFateReceiverConfig } from './receivers/packet_fate/config';

// What flows through pipelines, and the processor contract.
export type { EventSink, PipelineEvent, Processor } from './pipeline/event';
export type { ConnPipelineEvent } from './receivers/connections/pipeline-event';
export type { SniPipelineEvent } from './receivers/sni/pipeline-event';
export type { PacketFateCountEvent, PacketFatePipelineEvent, PacketFateSampleEvent } from './receivers/packet_fate/pipeline-event';

// Names: every metric, log event and attribute, from otel/catalogue.yaml.
export { ATTR, ATTRIBUTES, EVENT, EVENTS, METRIC, METRICS } from './catalogue/generated';
export type { AttributeName, EventName, MetricName } from './catalogue/generated';

// Errors a caller can catch (each with a stable NETWATCH_ERR_* code).
export * from './errors';
