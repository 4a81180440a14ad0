// TCP state names shared by every receiver that reports a TCP state (connections, packet_fate).

/** TCP states indexed by the kernel's numbers (include/net/tcp_states.h), named as the OTel
 * semantic conventions name them (`network.connection.state`: closed, syn_received, ...). */
export const TCP_STATES = [
  'unknown',
  'established',
  'syn_sent',
  'syn_received',
  'fin_wait_1',
  'fin_wait_2',
  'time_wait',
  'closed',
  'close_wait',
  'last_ack',
  'listen',
  'closing',
  'new_syn_recv',
  'bound_inactive',
] as const;
export type TcpState = (typeof TCP_STATES)[number];
