// koffi declarations of the libbpf 1.x and libc functions the agent uses — declarations only.
// Pointers come back from koffi as bigint (0n = NULL). Read errno with koffi.errno() at once.
import { constants as fsConstants } from 'node:fs';
import koffi from 'koffi';

const libbpf = koffi.load('libbpf.so.1');
const libc = koffi.load('libc.so.6');

export type Ptr = bigint;

// libbpf_set_print's callback: (level, fmt, va_list). On x86-64/arm64 va_list decays to a pointer.
export const PrintFn = koffi.proto('int netwatch_libbpf_print(int level, void *fmt, void *args)');

/** struct bpf_test_run_opts (libbpf 1.x): pointer members take Buffers. */
export const TestRunOpts = koffi.struct('netwatch_bpf_test_run_opts', {
  sz: 'size_t',
  data_in: 'const void *',
  data_out: 'void *',
  data_size_in: 'uint32_t',
  data_size_out: 'uint32_t',
  ctx_in: 'const void *',
  ctx_out: 'void *',
  ctx_size_in: 'uint32_t',
  ctx_size_out: 'uint32_t',
  retval: 'uint32_t',
  repeat: 'int',
  duration: 'uint32_t',
  flags: 'uint32_t',
  cpu: 'uint32_t',
  batch_size: 'uint32_t',
});

export const bpf = {
  set_print: libbpf.func('void *libbpf_set_print(netwatch_libbpf_print *fn)'),
  num_possible_cpus: libbpf.func('int libbpf_num_possible_cpus(void)'),

  object__open_file: libbpf.func('void *bpf_object__open_file(const char *path, const void *opts)'),
  object__load: libbpf.func('int bpf_object__load(void *obj)'),
  object__close: libbpf.func('void bpf_object__close(void *obj)'),
  object__btf: libbpf.func('void *bpf_object__btf(const void *obj)'),
  object__next_map: libbpf.func('void *bpf_object__next_map(const void *obj, const void *map)'),
  object__next_program: libbpf.func('void *bpf_object__next_program(const void *obj, void *prog)'),

  map__name: libbpf.func('const char *bpf_map__name(const void *map)'),
  map__fd: libbpf.func('int bpf_map__fd(const void *map)'),
  map__set_max_entries: libbpf.func('int bpf_map__set_max_entries(void *map, uint32_t max_entries)'),
  map__max_entries: libbpf.func('uint32_t bpf_map__max_entries(const void *map)'),
  map__value_size: libbpf.func('uint32_t bpf_map__value_size(const void *map)'),
  map__initial_value: libbpf.func('void *bpf_map__initial_value(void *map, _Out_ size_t *psize)'),
  map__reuse_fd: libbpf.func('int bpf_map__reuse_fd(void *map, int fd)'),

  program__name: libbpf.func('const char *bpf_program__name(const void *prog)'),
  program__section_name: libbpf.func('const char *bpf_program__section_name(const void *prog)'),
  program__set_autoload: libbpf.func('int bpf_program__set_autoload(void *prog, bool autoload)'),
  program__autoload: libbpf.func('bool bpf_program__autoload(const void *prog)'),
  program__fd: libbpf.func('int bpf_program__fd(const void *prog)'),
  program__attach: libbpf.func('void *bpf_program__attach(const void *prog)'),
  program__attach_cgroup: libbpf.func('void *bpf_program__attach_cgroup(const void *prog, int cgroup_fd)'),
  link__destroy: libbpf.func('int bpf_link__destroy(void *link)'),
  link__fd: libbpf.func('int bpf_link__fd(const void *link)'),
  program__attach_iter: libbpf.func('void *bpf_program__attach_iter(const void *prog, const void *opts)'),
  iter_create: libbpf.func('int bpf_iter_create(int link_fd)'),

  // Raw map access (bpf syscall wrappers); key/value are caller buffers.
  map_lookup_elem: libbpf.func('int bpf_map_lookup_elem(int fd, const void *key, _Out_ void *value)'),
  map_update_elem: libbpf.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
  map_delete_elem: libbpf.func('int bpf_map_delete_elem(int fd, const void *key)'),
  // Batched map access: one syscall per chunk of elements (in_batch NULL = from the start).
  map_lookup_batch: libbpf.func(
    'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const void *opts)',
  ),
  map_lookup_and_delete_batch: libbpf.func(
    'int bpf_map_lookup_and_delete_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const void *opts)',
  ),

  // BTF, to find `const volatile` settings in .rodata by name.
  btf__find_by_name_kind: libbpf.func('int btf__find_by_name_kind(const void *btf, const char *name, uint32_t kind)'),
  btf__type_by_id: libbpf.func('void *btf__type_by_id(const void *btf, uint32_t id)'),
  btf__name_by_offset: libbpf.func('const char *btf__name_by_offset(const void *btf, uint32_t offset)'),
  // The running kernel's BTF (/sys/kernel/btf/vmlinux), for enums such as skb_drop_reason.
  btf__load_vmlinux_btf: libbpf.func('void *btf__load_vmlinux_btf(void)'),
  btf__free: libbpf.func('void btf__free(void *btf)'),

  // Running a loaded program on a given packet (BPF_PROG_TEST_RUN): kernel tests of packet parsers.
  prog_test_run_opts: libbpf.func('int bpf_prog_test_run_opts(int prog_fd, _Inout_ netwatch_bpf_test_run_opts *opts)'),

  // TC (clsact) attachment, for the TC probes.
  tc_hook_create: libbpf.func('int bpf_tc_hook_create(void *hook)'),
  tc_hook_destroy: libbpf.func('int bpf_tc_hook_destroy(void *hook)'),
  tc_attach: libbpf.func('int bpf_tc_attach(const void *hook, void *opts)'),
  tc_detach: libbpf.func('int bpf_tc_detach(const void *hook, const void *opts)'),
  tc_query: libbpf.func('int bpf_tc_query(const void *hook, void *opts)'),

  // BPF links by attach type (TCX: the target is an ifindex) and what is attached where.
  link_create: libbpf.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, const void *opts)'),
  prog_query: libbpf.func(
    'int bpf_prog_query(int target_fd, int type, uint32_t query_flags, _Out_ uint32_t *attach_flags, void *prog_ids, _Inout_ uint32_t *prog_cnt)',
  ),
  prog_get_fd_by_id: libbpf.func('int bpf_prog_get_fd_by_id(uint32_t id)'),
  obj_get_info_by_fd: libbpf.func('int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32_t *info_len)'),
};

export const c = {
  vasprintf: libc.func('int vasprintf(_Out_ void **strp, void *fmt, void *ap)'),
  free: libc.func('void free(void *p)'),
  strerror: libc.func('const char *strerror(int errnum)'),
  open: libc.func('int open(const char *path, int flags)'),
  close: libc.func('int close(int fd)'),
  read: libc.func('long read(int fd, _Out_ uint8_t *buf, size_t count)'),
  setns: libc.func('int setns(int fd, int nstype)'),
  mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
  munmap: libc.func('int munmap(void *addr, size_t len)'),
  mount: libc.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data)'),
  getpagesize: libc.func('int getpagesize(void)'),
  if_nametoindex: libc.func('unsigned int if_nametoindex(const char *name)'),
  // membarrier(2) has no glibc wrapper: syscall(SYS_membarrier, cmd, flags, cpu_id).
  syscall_membarrier: libc.func('long syscall(long nr, int cmd, unsigned int flags, int cpu_id)'),
};

/** mmap(2)'s failure result, (void *)-1. */
export const MAP_FAILED = 0xffffffffffffffffn;
/** mmap(2) protections and flags (asm-generic/mman-common.h, linux/mman.h). */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
/** open(2) flags (asm-generic/fcntl.h). */
export const O_RDONLY = 0;
/** Per architecture: 0o200000 on x86_64 but 0o40000 on arm64 (where 0o200000 is O_DIRECT), so node's own. */
export const O_DIRECTORY: number = fsConstants.O_DIRECTORY;
export const O_CLOEXEC = 0o2000000;
/** BTF type kinds (uapi/linux/btf.h BTF_KIND_*). */
export const BTF_KIND_ENUM = 6;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
export const BTF_KIND_ENUM64 = 19;
/** syscall numbers of membarrier (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h). */
export const SYS_MEMBARRIER: Readonly<Record<string, number>> = { x64: 324, arm64: 283 };
/** MEMBARRIER_CMD_GLOBAL: returns after synchronize_rcu(), i.e. once every running BPF program has finished. */
export const MEMBARRIER_CMD_GLOBAL = 1;
