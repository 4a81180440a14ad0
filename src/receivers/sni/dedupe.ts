// Recognising the second ClientHello of a connection, sent after a HelloRetryRequest, so that a
// connection is reported once. The state is the few fields below, kept per flow by the reassembler.
//
// How the second hello reaches us: the kernel keeps capturing a flow's client-to-server segments
// while their stream offset (seq - isn - 1) is under the capture budget, so after the server's
// HelloRetryRequest the client's next flight — an optional ChangeCipherSpec record (RFC 8446
// App. D.4) and the second ClientHello — arrives as later segments of the same FlowKey. The
// reassembler resumes framing where the first hello's last record ended and hands the result here.
import type { ClientHello } from './client-hello';

/** RFC 8446 §4.1.4: a client aborts on a second HelloRetryRequest, so a connection sends at most two ClientHellos. */
export const MAX_HELLOS_PER_FLOW = 2;

/** What was already reported for a flow. */
export interface ReportedHello {
  /** ClientHellos completed on this flow so far. */
  count: number;
  serverName: string | undefined;
  ech: boolean;
}

/**
 * - `first`: the flow's first ClientHello: report it.
 * - `retry`: a later ClientHello with the same name (the HelloRetryRequest case): do not report it again.
 * - `changed`: a later ClientHello naming a different server, which RFC 8446 §4.1.2 forbids
 *   ("the client MUST send the same ClientHello without modification", except key_share, early_data,
 *   cookie, pre_shared_key and padding): report it, since hiding a name would be worse than repeating a flow.
 */
export type RepeatVerdict = 'first' | 'retry' | 'changed';

export function judgeHello(prev: ReportedHello | undefined, hello: ClientHello): RepeatVerdict {
  if (!prev) return 'first';
  return prev.serverName === hello.serverName && prev.ech === hello.ech ? 'retry' : 'changed';
}

export function rememberHello(prev: ReportedHello | undefined, hello: ClientHello): ReportedHello {
  return { count: (prev?.count ?? 0) + 1, serverName: hello.serverName, ech: hello.ech };
}
