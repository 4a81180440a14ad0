/* Wire layout of the ring generator's records (test/bench only; the agent never loads it).
 * test/bench/ringgen.ts mirrors it; test/e2e/bench.test.ts checks that records arrive intact. */
#ifndef NETWATCH_BENCH_RINGGEN_H
#define NETWATCH_BENCH_RINGGEN_H

#define RINGGEN_MAGIC 0x6e776267 /* "nwbg": marks the head of a generator record */

/* First bytes of every record; the rest of the record (up to record_size) is left as reserved. */
struct ringgen_head {
  __u32 magic;  /* RINGGEN_MAGIC */
  __u32 index;  /* position of the record within its syscall's burst (0..records_per_hit-1) */
  __u64 seq;    /* per-CPU count of records emitted before this one */
};

#endif
