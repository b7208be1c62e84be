"""Static memory plan: every activation and scratch buffer gets a fixed arena offset.

Liveness-based: a buffer lives from the op that writes it (graph input: before op 0)
to the last op that reads it (graph output: to the end). Buffers are placed largest
first at the lowest 16-byte-aligned offset that does not overlap any placed buffer
whose lifetime intersects. In-place aliases (RESHAPE) share one buffer. The graph
input and output live in the arena too, so the arena is everything the model needs
at run time.

Partial in place: an op may declare (ctx.overlap) its kernel's access pattern
(`access.py`) over one of its inputs, for its forward order and optionally its
reverse order. From it the planner derives the smallest gap below the input where
the output may start (forward) and above it (reverse; the plan then marks the op
reverse, TM_REV<op> = 1). It uses an overlap only when the input buffer dies at that
op. Chains of convolutions thus zig-zag inside about one activation plus a few rows.
`verify.py` then proves every overlap of the finished plan safe.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .access import Access
from .ir import Graph

ALIGN = 16


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    key: str                 # "t<i>" for a tensor root, "s<op>" for scratch
    size: int
    first: int
    last: int
    offset: int = -1
    tensors: list[int] = field(default_factory=list)


@dataclass
class Plan:
    arena_bytes: int
    tensor_offsets: dict[int, int]     # tensor index -> byte offset in the arena
    scratch_offsets: dict[int, int]    # op index -> byte offset of its scratch buffer
    buffers: list[Buffer]
    # (out key, in key) -> (gap below, gap above or None): allowed partial overlaps
    overlaps: dict[tuple[str, str], tuple[int, int | None]] = field(default_factory=dict)
    reverse_ops: set[int] = field(default_factory=set)   # ops whose output sits above input
    # (out key, in key) -> (op index, forward pattern, reverse pattern or None)
    accesses: dict[tuple[str, str], tuple[int, Access, Access | None]] = field(default_factory=dict)


def _forbidden(b: Buffer, p: Buffer, relax: dict) -> tuple[int, int]:
    """Open interval of offsets b may not take, given placed p with a shared lifetime.

    Output over input: allowed at least `down` bytes below the input start, or (if
    the kernel can run in reverse) at least `up` bytes above it, or disjoint."""
    if (b.key, p.key) in relax:           # b is the output, p its dying input
        down, up = relax[(b.key, p.key)]
        return (p.offset - min(down, b.size),
                p.offset + (p.size if up is None else min(up, p.size)))
    if (p.key, b.key) in relax:           # b is the input, p its output
        down, up = relax[(p.key, b.key)]
        return (p.offset - (b.size if up is None else min(up, b.size)),
                p.offset + min(down, p.size))
    return p.offset - b.size, p.offset + p.size


def plan_memory(g: Graph, aliases: dict[int, list[tuple[int, int]]],
                scratch: dict[int, int],
                overlaps: dict[int, list[tuple[int, int, Access, Access | None]]] | None = None
                ) -> Plan:
    """aliases: op -> [(out_i, in_i)]; scratch: op -> bytes;
    overlaps: op -> [(out_i, in_i, forward access, reverse access or None)]."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    for op in g.ops:
        for out_i, in_i in aliases.get(op.index, []):
            parent[op.outputs[out_i].index] = root(op.inputs[in_i].index)

    n_ops = len(g.ops)
    bufs: dict[int, Buffer] = {}

    def touch(t, when: int) -> None:
        if t is None or t.is_const:
            return
        r = root(t.index)
        b = bufs.get(r)
        if b is None:
            b = bufs[r] = Buffer(f"t{r}", 0, when, when)
        b.size = max(b.size, t.nbytes)
        b.first, b.last = min(b.first, when), max(b.last, when)
        if t.index not in b.tensors:
            b.tensors.append(t.index)

    for t in g.inputs:
        touch(t, -1)
    for op in g.ops:
        for t in op.inputs:
            touch(t, op.index)
        for t in op.outputs:
            touch(t, op.index)
    for t in g.outputs:
        touch(t, n_ops)

    all_bufs = list(bufs.values())
    for op_i in sorted(scratch):
        if scratch[op_i] > 0:
            all_bufs.append(Buffer(f"s{op_i}", scratch[op_i], op_i, op_i))

    relax: dict[tuple[str, str], tuple[int, int | None]] = {}
    accesses: dict[tuple[str, str], tuple[int, Access, Access | None]] = {}
    for op in g.ops:
        for out_i, in_i, fwd, rev in (overlaps or {}).get(op.index, []):
            ti, to = op.inputs[in_i], op.outputs[out_i]
            if ti is None or ti.is_const:
                continue
            bi, bo = bufs[root(ti.index)], bufs[root(to.index)]
            if bi is not bo and bi.last == op.index and bo.first == op.index:
                relax[(bo.key, bi.key)] = (fwd.gap_below(), None if rev is None else rev.gap_above())
                accesses[(bo.key, bi.key)] = (op.index, fwd, rev)

    # Largest first; each buffer takes the allowed offset that grows the arena's extent
    # least (offsets may go negative while planning, so an output can slide below its
    # input), then everything is shifted to start at 0.
    placed: list[Buffer] = []
    lo_all, hi_all = 0, 0
    for b in sorted(all_bufs, key=lambda b: (-_align(b.size), b.first, b.key)):
        spans = [_forbidden(b, p, relax) for p in placed
                 if p.first <= b.last and b.first <= p.last and p.size and b.size]
        cands = {0} | {_align(hi) for _, hi in spans} | {lo // ALIGN * ALIGN for lo, _ in spans}
        ok = [c for c in cands if all(c <= lo or c >= hi for lo, hi in spans)]
        b.offset = min(ok, key=lambda c: (max(hi_all, c + b.size) - min(lo_all, c), abs(c), c))
        lo_all, hi_all = min(lo_all, b.offset), max(hi_all, b.offset + b.size)
        placed.append(b)
    for b in placed:
        b.offset -= lo_all
    by_key = {b.key: b for b in placed}
    # Reverse order where the output overlaps its input at a place the forward
    # order does not allow (the placement rules above make it one reverse allows).
    reverse = set()
    for (ko, ki), (op_i, _, _) in accesses.items():
        bo, bi = by_key[ko], by_key[ki]
        d = bo.offset - bi.offset
        if -bo.size < d < bi.size and d > -relax[(ko, ki)][0]:
            reverse.add(op_i)

    arena = _align(max((b.offset + b.size for b in placed), default=0))
    t_off = {}
    for b in placed:
        for ti in b.tensors:
            t_off[ti] = b.offset
    s_off = {int(b.key[1:]): b.offset for b in placed if b.key.startswith("s")}
    return Plan(arena, t_off, s_off, sorted(placed, key=lambda b: b.key), relax, reverse,
                accesses)
