// koffi declarations of the libbpf 1.x and libc functions the agent uses — declarations only.
// Pointers come back from koffi as bigint (0n = NULL). Read errno with koffi.errno() at once.
import koffi from 'koffi';

const libbpf = koffi.load('libbpf.so.1');
const libc = koffi.load('libc.so.6');

export type Ptr = bigint;

// libbpf_set_print's callback: (level, fmt, va_list). On x86-64/arm64 va_list decays to a pointer.
export const PrintFn = koffi.proto('int netwatch_libbpf_print(int level, void *fmt, void *args)');

/** struct bpf_test_run_opts (libbpf 1.x): pointer members take Buffers. */
export const TestRunOpts = koffi.struct('netwatch_bpf_test_run_opts', {
  sz: 'size_t', data_in: 'const void *', data_out: 'void *', data_size_in: 'uint32_t', data_size_out: 'uint32_t',
  ctx_in: 'const void *', ctx_out: 'void *', ctx_size_in: 'uint32_t', ctx_size_out: 'uint32_t',
  retval: 'uint32_t', repeat: 'int', duration: 'uint32_t', flags: 'uint32_t', cpu: 'uint32_t', batch_size: 'uint32_t',
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

  // Raw map access (bpf syscall wrappers); key/value are caller buffers.
  map_lookup_elem: libbpf.func('int bpf_map_lookup_elem(int fd, const void *key, _Out_ void *value)'),
  map_update_elem: libbpf.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
  map_delete_elem: libbpf.func('int bpf_map_delete_elem(int fd, const void *key)'),

  // BTF, to find `const volatile` settings in .rodata by name.
  btf__find_by_name_kind: libbpf.func('int btf__find_by_name_kind(const void *btf, const char *name, uint32_t kind)'),
  btf__type_by_id: libbpf.func('void *btf__type_by_id(const void *btf, uint32_t id)'),
  btf__name_by_offset: libbpf.func('const char *btf__name_by_offset(const void *btf, uint32_t offset)'),

  // Running a loaded program on a given packet (BPF_PROG_TEST_RUN): kernel tests of packet parsers.
  prog_test_run_opts: libbpf.func('int bpf_prog_test_run_opts(int prog_fd, _Inout_ netwatch_bpf_test_run_opts *opts)'),

  // TC (clsact) attachment, for the TC probes.
  tc_hook_create: libbpf.func('int bpf_tc_hook_create(void *hook)'),
  tc_hook_destroy: libbpf.func('int bpf_tc_hook_destroy(void *hook)'),
  tc_attach: libbpf.func('int bpf_tc_attach(const void *hook, void *opts)'),
  tc_detach: libbpf.func('int bpf_tc_detach(const void *hook, const void *opts)'),
};

export const c = {
  vasprintf: libc.func('int vasprintf(_Out_ void **strp, void *fmt, void *ap)'),
  free: libc.func('void free(void *p)'),
  strerror: libc.func('const char *strerror(int errnum)'),
  open: libc.func('int open(const char *path, int flags)'),
  close: libc.func('int close(int fd)'),
  mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
  munmap: libc.func('int munmap(void *addr, size_t len)'),
  mount: libc.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data)'),
  getpagesize: libc.func('int getpagesize(void)'),
  if_nametoindex: libc.func('unsigned int if_nametoindex(const char *name)'),
};

export const MAP_FAILED = 0xffffffffffffffffn;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const O_RDONLY = 0;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
