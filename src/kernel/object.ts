// One BPF object file: open, configure before load, load, attach, close — the whole lifecycle.
import koffi from 'koffi';
import { KernelError, VerifierError } from '../errors';
import { rootLogger } from '../log';
import { BTF_KIND_DATASEC, O_CLOEXEC, O_DIRECTORY, O_RDONLY, Ptr, bpf, c } from './libbpf';
import { describeErrno, EINVAL, ENOENT, errnoFromResult, lastErrno } from './errno';
import { captureLibbpfOutput, installLibbpfLogger, LOG_BEGIN, LOG_END } from './print';
import { programInfoOfFd, type ProgramInfo } from './prog-info';
import { BTF_INFO_VLEN_MASK, BTF_TYPE_INFO_AT, BTF_TYPE_NAME_OFF_AT, BTF_TYPE_SIZE, BTF_VAR_SECINFO } from './btf';

/** A scalar setting, or an array of u64 (`const volatile __u64 name[N]`: at most N values, the rest stay 0). */
export type RodataValue = number | bigint | boolean | readonly (number | bigint)[];

export interface OpenOptions {
  /** map name → max_entries, applied before load (ring sizes, LRU sizes). */
  maxEntries?: Readonly<Record<string, number>>;
  /** `const volatile` globals in .rodata by name, applied before load. */
  rodata?: Readonly<Record<string, RodataValue>>;
  /** programs not to load (by function name). */
  skip?: readonly string[];
  /**
   * map name → fd of a map another object already created, used instead of creating this one
   * (bpf_map__reuse_fd): how probes share the conn probe's socket-owner map. Types must match.
   */
  reuseMaps?: Readonly<Record<string, number>>;
}

export interface BpfMap {
  readonly name: string;
  readonly fd: number;
  readonly maxEntries: number;
  readonly valueSize: number;
}

export interface Link {
  readonly program: string;
  readonly target: string;
  destroy(): void;
}

const log = rootLogger.child('kernel');

function fail(op: string, errno: number, program?: string): never {
  throw new KernelError(`${op}${program ? ` (program ${program})` : ''} failed: ${describeErrno(errno)}`, errno, op, program);
}

function sectionLog(output: string): { program?: string; log?: string } {
  const prog = /prog '([^']+)': failed to load/.exec(output)?.[1];
  const begin = output.indexOf(LOG_BEGIN);
  const end = output.indexOf(LOG_END);
  return { program: prog, log: begin >= 0 && end > begin ? output.slice(begin + LOG_BEGIN.length, end).trim() : undefined };
}

export class BpfObject {
  private readonly links = new Set<Link>();
  private loaded = false;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly obj: Ptr,
  ) {}

  static open(path: string, opts: OpenOptions = {}): BpfObject {
    installLibbpfLogger();
    const obj = bpf.object__open_file(path, null) as Ptr;
    if (!obj) fail(`bpf_object__open_file(${path})`, lastErrno());
    const o = new BpfObject(path, obj);
    try {
      for (const [name, n] of Object.entries(opts.maxEntries ?? {})) {
        const ret = bpf.map__set_max_entries(o.mapPtr(name), n) as number;
        if (ret < 0) fail(`bpf_map__set_max_entries(${name}, ${n})`, -ret);
      }
      for (const [name, fd] of Object.entries(opts.reuseMaps ?? {})) {
        const ret = bpf.map__reuse_fd(o.mapPtr(name), fd) as number;
        if (ret < 0) fail(`bpf_map__reuse_fd(${name})`, -ret);
      }
      if (opts.rodata && Object.keys(opts.rodata).length) o.setRodata(opts.rodata);
      for (const name of opts.skip ?? []) bpf.program__set_autoload(o.progPtr(name), false);
    } catch (e) {
      o.close();
      throw e;
    }
    return o;
  }

  private mapPtr(name: string): Ptr {
    for (let m = bpf.object__next_map(this.obj, null) as Ptr; m; m = bpf.object__next_map(this.obj, m) as Ptr) {
      if ((bpf.map__name(m) as string) === name) return m;
    }
    throw new KernelError(`${this.path}: no map named ${name}`, ENOENT, 'find_map');
  }

  private progPtr(name: string): Ptr {
    for (let p = bpf.object__next_program(this.obj, null) as Ptr; p; p = bpf.object__next_program(this.obj, p) as Ptr) {
      if ((bpf.program__name(p) as string) === name) return p;
    }
    throw new KernelError(`${this.path}: no program named ${name}`, ENOENT, 'find_program', name);
  }

  /** Write `const volatile` settings into .rodata, locating each variable through the object's BTF. */
  private setRodata(values: Readonly<Record<string, RodataValue>>): void {
    let map: Ptr = 0n;
    for (let m = bpf.object__next_map(this.obj, null) as Ptr; m; m = bpf.object__next_map(this.obj, m) as Ptr) {
      if ((bpf.map__name(m) as string).endsWith('.rodata')) map = m;
    }
    if (!map) throw new KernelError(`${this.path}: has no .rodata, cannot set ${Object.keys(values).join(', ')}`, EINVAL, 'set_rodata');
    const size = [0];
    const data = bpf.map__initial_value(map, size) as Ptr;
    const btf = bpf.object__btf(this.obj) as Ptr;
    const secId = bpf.btf__find_by_name_kind(btf, '.rodata', BTF_KIND_DATASEC) as number;
    if (!data || !btf || secId < 0) throw new KernelError(`${this.path}: cannot locate .rodata in BTF`, EINVAL, 'set_rodata');
    const sec = new DataView(koffi.view(bpf.btf__type_by_id(btf, secId) as Ptr, BTF_TYPE_SIZE));
    const vlen = sec.getUint32(BTF_TYPE_INFO_AT, true) & BTF_INFO_VLEN_MASK;
    // struct btf_type is followed by vlen struct btf_var_secinfo { type, offset, size }.
    const vars = new DataView(koffi.view(bpf.btf__type_by_id(btf, secId) as Ptr, BTF_TYPE_SIZE + BTF_VAR_SECINFO.size * vlen));
    const where = new Map<string, { offset: number; size: number }>();
    for (let i = 0; i < vlen; i++) {
      const base = BTF_TYPE_SIZE + BTF_VAR_SECINFO.size * i;
      const t = new DataView(koffi.view(bpf.btf__type_by_id(btf, vars.getUint32(base + BTF_VAR_SECINFO.type, true)) as Ptr, BTF_TYPE_SIZE));
      const name = bpf.btf__name_by_offset(btf, t.getUint32(BTF_TYPE_NAME_OFF_AT, true)) as string;
      where.set(name, { offset: vars.getUint32(base + BTF_VAR_SECINFO.offset, true), size: vars.getUint32(base + BTF_VAR_SECINFO.varSize, true) });
    }
    const dv = new DataView(koffi.view(data, size[0]!)); // the one-element out-parameter
    for (const [name, value] of Object.entries(values)) {
      const v = where.get(name);
      if (!v) throw new KernelError(`${this.path}: no setting named ${name} in .rodata (have: ${[...where.keys()].join(', ')})`, EINVAL, 'set_rodata');
      if (Array.isArray(value)) {
        const items = value as readonly (number | bigint)[];
        if (items.length * 8 > v.size)
          throw new KernelError(`${this.path}: setting ${name} holds ${v.size / 8} values, got ${items.length}`, EINVAL, 'set_rodata');
        items.forEach((x, i) => dv.setBigUint64(v.offset + 8 * i, BigInt.asUintN(64, BigInt(x)), true));
        continue;
      }
      const scalar = value as number | bigint | boolean;
      const n = typeof scalar === 'boolean' ? (scalar ? 1n : 0n) : BigInt(scalar);
      switch (v.size) {
        case 1:
          dv.setUint8(v.offset, Number(n));
          break;
        case 2:
          dv.setUint16(v.offset, Number(n), true);
          break;
        case 4:
          dv.setUint32(v.offset, Number(BigInt.asUintN(32, n)), true);
          break;
        case 8:
          dv.setBigUint64(v.offset, BigInt.asUintN(64, n), true);
          break;
        default:
          throw new KernelError(`${this.path}: setting ${name} has unsupported size ${v.size}`, EINVAL, 'set_rodata');
      }
    }
  }

  load(): void {
    const { result: ret, output } = captureLibbpfOutput(() => bpf.object__load(this.obj) as number);
    if (ret < 0) {
      const errno = -ret;
      const { program, log: vlog } = sectionLog(output);
      if (vlog) {
        throw new VerifierError(
          `the verifier rejected program ${program ?? '?'} in ${this.path}: ${describeErrno(errno)}`,
          errno,
          'bpf_object__load',
          program,
          vlog,
        );
      }
      throw new KernelError(`loading ${this.path} failed: ${describeErrno(errno)}${output ? `\n${output.trim()}` : ''}`, errno, 'bpf_object__load', program);
    }
    this.loaded = true;
  }

  map(name: string): BpfMap {
    const m = this.mapPtr(name);
    return {
      name,
      fd: bpf.map__fd(m) as number,
      maxEntries: bpf.map__max_entries(m) as number,
      valueSize: bpf.map__value_size(m) as number,
    };
  }

  /** Every loaded program of this object, named by its function, with its run-time statistics (zero unless the kernel keeps them). */
  programInfos(): ProgramInfo[] {
    const out: ProgramInfo[] = [];
    for (let p = bpf.object__next_program(this.obj, null) as Ptr; p; p = bpf.object__next_program(this.obj, p) as Ptr) {
      const fd = bpf.program__fd(p) as number;
      const name = bpf.program__name(p) as string;
      // The libbpf name is the whole function name; the kernel keeps 15 characters of it.
      if (fd >= 0) out.push({ ...programInfoOfFd(fd, name), name });
    }
    return out;
  }

  programFd(name: string): number {
    return bpf.program__fd(this.progPtr(name)) as number;
  }

  private track(program: string, target: string, link: Ptr): Link {
    const links = this.links;
    const l: Link = {
      program,
      target,
      destroy() {
        if (!links.delete(l)) return;
        bpf.link__destroy(link);
      },
    };
    links.add(l);
    log.debug('attached', { program, target });
    return l;
  }

  /** Attach by the program's SEC() (tracepoints, raw tracepoints). */
  attach(program: string): Link {
    const p = this.progPtr(program);
    const link = bpf.program__attach(p) as Ptr;
    if (!link) fail('bpf_program__attach', lastErrno(), program);
    return this.track(program, bpf.program__section_name(p) as string, link);
  }

  /**
   * Attach an iterator program (`SEC("iter/...")`): the link stays with the object; each
   * iterFd() call then makes one pass readable from a new descriptor.
   */
  attachIter(program: string): Link & { readonly fd: number } {
    const p = this.progPtr(program);
    const link = bpf.program__attach_iter(p, null) as Ptr;
    if (!link) fail('bpf_program__attach_iter', lastErrno(), program);
    const l = this.track(program, bpf.program__section_name(p) as string, link);
    return Object.assign(l, { fd: bpf.link__fd(link) as number });
  }

  /** Attach a cgroup program (connect4/6, sock_ops, cgroup_skb) to the cgroup at path. */
  attachCgroup(program: string, cgroupPath: string): Link {
    const p = this.progPtr(program);
    const fd = c.open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC) as number;
    if (fd < 0) fail(`open(${cgroupPath})`, lastErrno(), program);
    try {
      const link = bpf.program__attach_cgroup(p, fd) as Ptr;
      if (!link) fail(`bpf_program__attach_cgroup(${cgroupPath})`, lastErrno(), program);
      return this.track(program, cgroupPath, link);
    } finally {
      c.close(fd); // the link holds its own reference to the cgroup
    }
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Detach the links of every program but `keep` (the object stays loaded: maps still readable). */
  detach(keep: readonly string[] = []): void {
    for (const l of [...this.links]) if (!keep.includes(l.program)) l.destroy();
  }

  /** Detach every link, then free the object (programs and maps go with their last fd). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.links]) l.destroy();
    bpf.object__close(this.obj);
  }
}

export { errnoFromResult };
