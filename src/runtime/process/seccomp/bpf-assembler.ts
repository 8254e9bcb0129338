// A minimal classic-BPF assembler for seccomp filters: the few instructions a filter needs, forward jumps to labels.

/** Opcodes (linux/filter.h: class | size | mode, class | op | src). */
const BPF_LD_W_ABS = 0x20;
const BPF_ALU_AND_K = 0x54;
const BPF_JMP_JA = 0x05;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGE_K = 0x35;
const BPF_JMP_JSET_K = 0x45;
const BPF_RET_K = 0x06;

/** Size of one `struct sock_filter` { u16 code; u8 jt; u8 jf; u32 k }. */
export const BPF_INSTRUCTION_BYTES = 8;
/** The kernel refuses longer programs (BPF_MAXINSNS). */
const MAX_INSTRUCTIONS = 4096;

/** Where a conditional jump goes: the next instruction, or a label placed later. */
export type JumpTarget = string | null;

interface Instruction {
  code: number;
  k: number;
  jt: JumpTarget;
  jf: JumpTarget;
}

/**
 * Build a program instruction by instruction, jumping to labels defined further on, then
 * {@link BpfAssembler.assemble} it into the bytes `prctl(PR_SET_SECCOMP)` (or bwrap `--seccomp`)
 * takes. Classic BPF only jumps forward, at most 255 instructions for a conditional jump: a
 * jump that cannot be encoded is an error at assembly, never a wrong filter.
 */
export class BpfAssembler {
  readonly #code: Instruction[] = [];
  readonly #labels = new Map<string, number>();

  /** Number of instructions so far. */
  get length(): number {
    return this.#code.length;
  }

  /** Define `name` as the address of the next instruction. */
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`BPF label ${name} defined twice`);
    this.#labels.set(name, this.#code.length);
    return this;
  }

  /** A ← the 32-bit word at byte `offset` of `struct seccomp_data`. */
  loadWord(offset: number): this {
    return this.#push(BPF_LD_W_ABS, offset);
  }

  /** A ← A & k. */
  and(k: number): this {
    return this.#push(BPF_ALU_AND_K, k);
  }

  /** if (A == k) goto jt else goto jf. */
  jeq(k: number, jt: JumpTarget, jf: JumpTarget = null): this {
    return this.#push(BPF_JMP_JEQ_K, k, jt, jf);
  }

  /** if (A >= k) goto jt else goto jf (unsigned). */
  jge(k: number, jt: JumpTarget, jf: JumpTarget = null): this {
    return this.#push(BPF_JMP_JGE_K, k, jt, jf);
  }

  /** if (A & k) goto jt else goto jf. */
  jset(k: number, jt: JumpTarget, jf: JumpTarget = null): this {
    return this.#push(BPF_JMP_JSET_K, k, jt, jf);
  }

  /** goto label (32-bit offset). */
  jump(target: string): this {
    return this.#push(BPF_JMP_JA, 0, target, null);
  }

  /** Return `k` (a `SECCOMP_RET_*` action). */
  ret(k: number): this {
    return this.#push(BPF_RET_K, k);
  }

  /** Resolve labels and encode as `struct sock_filter[]` in this machine's byte order. */
  assemble(): Buffer {
    const n = this.#code.length;
    if (n === 0 || n > MAX_INSTRUCTIONS) throw new Error(`BPF program of ${n} instructions`);
    const out = Buffer.alloc(n * BPF_INSTRUCTION_BYTES);
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    this.#code.forEach((ins, pc) => {
      const offset = (target: JumpTarget, max: number): number => {
        if (target === null) return 0;
        const at = this.#labels.get(target);
        if (at === undefined) throw new Error(`BPF label ${target} is not defined`);
        const delta = at - pc - 1;
        if (delta < 0 || delta > max)
          throw new Error(`BPF jump from ${pc} to ${target} (${at}) out of range`);
        return delta;
      };
      let jt = 0;
      let jf = 0;
      let k = ins.k >>> 0;
      if (ins.code === BPF_JMP_JA) k = offset(ins.jt, MAX_INSTRUCTIONS);
      else {
        jt = offset(ins.jt, 255);
        jf = offset(ins.jf, 255);
      }
      const at = pc * BPF_INSTRUCTION_BYTES;
      if (le) {
        out.writeUInt16LE(ins.code, at);
        out.writeUInt32LE(k, at + 4);
      } else {
        out.writeUInt16BE(ins.code, at);
        out.writeUInt32BE(k, at + 4);
      }
      out.writeUInt8(jt, at + 2);
      out.writeUInt8(jf, at + 3);
    });
    if (this.#code[n - 1]?.code !== BPF_RET_K && this.#code[n - 1]?.code !== BPF_JMP_JA) {
      throw new Error('BPF program does not end in a return');
    }
    return out;
  }

  #push(code: number, k: number, jt: JumpTarget = null, jf: JumpTarget = null): this {
    this.#code.push({ code, k, jt, jf });
    return this;
  }
}
