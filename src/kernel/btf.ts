// Enums of the running kernel, read from its BTF (/sys/kernel/btf/vmlinux) through libbpf, so
// names such as the drop reasons of `enum skb_drop_reason` are the kernel's own, never a copy.
import koffi from 'koffi';
import { KernelError } from '../errors';
import { BTF_KIND_ENUM, BTF_KIND_ENUM64, Ptr, bpf } from './libbpf';
import { describeErrno, lastErrno } from './errno';

/** struct btf_type: name_off, info (vlen in bits 0-15, kind in 24-28, kflag = signed in bit 31), size. */
export const BTF_TYPE_SIZE = 12;
/** struct btf_type: offset of name_off (into the string section). */
export const BTF_TYPE_NAME_OFF_AT = 0;
/** struct btf_type: offset of info. */
export const BTF_TYPE_INFO_AT = 4;
const BTF_INFO_KIND_SHIFT = 24;
const BTF_INFO_KIND_MASK = 0x1f;
export const BTF_INFO_VLEN_MASK = 0xffff;
const BTF_INFO_KFLAG = 0x80000000;
/** struct btf_enum { name_off; s32 val } and struct btf_enum64 { name_off; val_lo32; val_hi32 }. */
const BTF_ENUM_SIZE = 8;
const BTF_ENUM64_SIZE = 12;
/** Offsets in struct btf_enum / btf_enum64: val (or val_lo32) after name_off, then val_hi32. */
const BTF_ENUM_VAL_AT = 4;
const BTF_ENUM64_VAL_HI_AT = 8;
/** struct btf_var_secinfo { type; offset; size }: one variable of a DATASEC, after its btf_type. */
export const BTF_VAR_SECINFO = { size: 12, type: 0, offset: 4, varSize: 8 } as const;

/** The members of one enum: name → value (values above 2^53 do not occur in the enums read here). */
export type KernelEnum = ReadonlyMap<string, number>;

/** Open the kernel's BTF, run fn with it, free it. */
export function withVmlinuxBtf<T>(fn: (btf: Ptr) => T): T {
  const btf = bpf.btf__load_vmlinux_btf() as Ptr;
  if (!btf) {
    const errno = lastErrno();
    throw new KernelError(`reading the kernel's BTF (/sys/kernel/btf/vmlinux) failed: ${describeErrno(errno)}`, errno, 'btf__load_vmlinux_btf');
  }
  try {
    return fn(btf);
  } finally {
    bpf.btf__free(btf);
  }
}

/** The members of `enum <name>` in `btf`, or undefined when the kernel has no such enum. */
export function readEnum(btf: Ptr, name: string): KernelEnum | undefined {
  let id = bpf.btf__find_by_name_kind(btf, name, BTF_KIND_ENUM) as number;
  if (id < 0) id = bpf.btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64) as number;
  if (id < 0) return undefined;
  const t = bpf.btf__type_by_id(btf, id) as Ptr;
  const head = new DataView(koffi.view(t, BTF_TYPE_SIZE));
  const info = head.getUint32(BTF_TYPE_INFO_AT, true);
  const kind = (info >>> BTF_INFO_KIND_SHIFT) & BTF_INFO_KIND_MASK;
  const vlen = info & BTF_INFO_VLEN_MASK;
  const signed = (info & BTF_INFO_KFLAG) !== 0;
  const member = kind === BTF_KIND_ENUM64 ? BTF_ENUM64_SIZE : BTF_ENUM_SIZE;
  const dv = new DataView(koffi.view(t, BTF_TYPE_SIZE + vlen * member));
  const out = new Map<string, number>();
  for (let i = 0; i < vlen; i++) {
    const at = BTF_TYPE_SIZE + i * member;
    const memberName = bpf.btf__name_by_offset(btf, dv.getUint32(at, true)) as string;
    let value: number;
    if (kind === BTF_KIND_ENUM64) value = dv.getUint32(at + BTF_ENUM_VAL_AT, true) + dv.getUint32(at + BTF_ENUM64_VAL_HI_AT, true) * 2 ** 32;
    else value = signed ? dv.getInt32(at + BTF_ENUM_VAL_AT, true) : dv.getUint32(at + BTF_ENUM_VAL_AT, true);
    out.set(memberName, value);
  }
  return out;
}

/** Several enums of the running kernel at once (one BTF load). */
export function kernelEnums(names: readonly string[]): Record<string, KernelEnum | undefined> {
  return withVmlinuxBtf((btf) => Object.fromEntries(names.map((n) => [n, readEnum(btf, n)])));
}
