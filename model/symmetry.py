"""Symmetry reduction: states that differ only in which slots hold which freed objects are one.

A permutation of object indices renames every reference (model/layout.py: the arrays indexed by
object, the variables whose values name objects, the bits of a set-of-objects local). The model
is not symmetric under every permutation: its semantics read the index order of objects, which
is their allocation order (allocation takes the lowest never-used slot, and a freed slot is
never used again):

- a heap quantifier (`For each FinalizationRegistry _fg_ such that ...`) and a loop over the set
  _S_ visit members by index, the next one after the loop's current element (model/loops.py);
  the order decides, for one, the order of the cleanup jobs queued;
- a reference-counting host with an object graph frees the head of its `zero_list`, and of
  several objects queued at one place the lowest (model/refcount.py `_free_next`); the places
  are in an object array, so they move with the objects they belong to;
- allocation picks the lowest never-used slot (model/heap.py `new_object`);
- a cycle collection places its members in tmp_obj_list by index (model/refcount.py
  `_free_cycles_order`); the places go into `gc_mark`, an object array, so they move with the
  objects they belong to.

Every one of these compares live objects only (members of the heap and of _S_ are live, so is
what is owed a free), or a loop's current element, which a loop only binds when it is live and
which may be freed under it while the body runs. So a permutation π is an automorphism of the
transition relation at state s when it keeps the relative order of the *order-relevant* objects
R(s) (the live ones and every loop's current element in a frame), and fixes the never-used ones
(all alike, so the lowest is the lowest in both). Freed objects outside R(s) are then
interchangeable, with each other and in their position among the rest. R gains an object only
by a new allocation (a never-used slot, fixed by π): a loop binds live objects, which are in R
already; otherwise R only loses objects, as they are freed and no loop holds them. A permutation
that keeps R(s)'s order therefore keeps the order of R(s') ⊆ R(s) ∪ {the new slot} for every
successor s', so it is allowed there too: the relation "t = π(s) for an allowed π" is a
bisimulation, and exploring one representative per class finds every reachable class, and a
shortest path to each (tests/model/test_symmetry.py checks it on sampled states of every shipped
host).

What this does not say: that a representative, or every member of a class, is reachable. π may
be allowed at s and not at the states before it (where more objects were live), so π(s) can be a
state no run reaches (helper-30's review found 3,992 of ecma262's 155,115 representatives so,
e.g. a freed WeakRef below the live registry it targets, which allocation order excludes).
Verdicts are unaffected, as s and π(s) behave alike and every catalogue property gives one value
per class (the test checks that too); a certificate's invariant, the union of the
representatives' orbits, holds every reachable state and possibly more, which an inductive
invariant may; and the count of states in those orbits is reported as such, never as the
number of reachable states.

The representative: allocated slots keep their positions as a set; R(s) fills its first ones in
its own order, the other allocated (freed) objects the rest, in whichever order gives the
smallest state (bytes compared in order). With more than FREE_EXACT such objects they keep
their index order instead: still an allowed permutation, so sound, only not canonical (two
states of one class may stay two). The native explorer prints the same computation as C
(`c_source`), so both explorers visit the same representatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, permutations

import numpy as np
from specmc.model.layout import EXECUTION, FREED, LIVE, NONE, OBJ, OBJECT_ARRAYS, REFERENCES
from specmc.model.program import Program
from specmc.spec import ir

FREE_EXACT = 5  # freed, order-free objects tried in every order (5! = 120 candidate states)


class NotSymmetric(Exception):
    """The model's locals are not of a kind the reduction can rename soundly (the reason)."""


@dataclass(frozen=True)
class Symmetry:
    """What a permutation of object indices does to one program's states (its layout and the
    types of its algorithms' locals)."""

    objects: int
    width: int
    arrays: tuple[int, ...]  # the first position of each array indexed by object
    prop: int  # the first position of `prop` (-1: bound slots is 0)
    slots: int
    references: tuple[int, ...]  # positions whose value may name an object (frame locals apart)
    status: int
    sp: int
    frame_alg: int
    frame_local: int
    frames: int
    k: int  # locals per frame
    masks: dict[int, frozenset[int]]  # algorithm code -> its locals that are bitmasks of objects
    cursors: dict[int, frozenset[int]]  # algorithm code -> its locals a loop binds objects to

    @staticmethod
    def of(program: Program) -> Symmetry:
        """The program's symmetry tables. NotSymmetric when a local is both a loop's current
        element and something a caller passes in (its first value would then be an arbitrary
        object, which the argument above does not cover)."""
        lay = program.layout
        masks: dict[int, frozenset[int]] = {}
        cursors: dict[int, frozenset[int]] = {}
        for a in program.algorithms:
            mask, cursor = set(), set()
            for s in a.pcs:
                if s is None or not isinstance(s.stmt, ir.ForEach):
                    continue
                st = s.stmt
                if isinstance(st.source, ir.Var):  # the set _S_ (model/loops.py: a bitmask)
                    mask.add(a.locals.index(st.source.name))
                if st.source is None or isinstance(st.source, ir.Var):  # binds objects, in index order
                    cursor.add(a.locals.index(st.binder.var))
            if a.name == EXECUTION:  # pushed with _S_ as a bitmask (model/env.py `_collector`)
                mask |= {a.locals.index(n) for n in a.inputs}
            passed = {a.locals.index(n) for n in (*a.inputs, "this", "newtarget") if n in a.locals}
            if cursor & passed:
                raise NotSymmetric(f"{a.name}: a loop binds a local that is also passed in")
            if mask & cursor:
                raise NotSymmetric(f"{a.name}: a local is both a set of objects and one object")
            if mask:
                masks[a.code] = frozenset(mask)
            if cursor:
                cursors[a.code] = frozenset(cursor)
        arrays = tuple(lay.where(n)[0] for n in OBJECT_ARRAYS if n in lay.index)
        refs: list[int] = []
        for n in REFERENCES:
            if n in lay.index:
                base, size = lay.where(n)
                refs.extend(range(base, base + size))
        return Symmetry(lay.bounds.objects, lay.size, arrays,
                        lay.where("prop")[0] if "prop" in lay.index else -1, lay.bounds.slots,
                        tuple(refs), lay.where("obj_status")[0], lay.where("sp")[0],
                        lay.where("frame_alg")[0], lay.where("frame_local")[0], lay.bounds.frames,
                        lay.locals_per_frame, masks, cursors)

    # the classes -------------------------------------------------------------------------------
    def relevant(self, s: tuple[int, ...]) -> list[bool]:
        """R(s): the objects whose relative order the model can read (live, or a loop's current
        element in some frame)."""
        no = self.objects
        out = [s[self.status + i] == LIVE for i in range(no)]
        for f in range(self.frames):
            for x in self.cursors.get(s[self.frame_alg + f], ()):
                v = s[self.frame_local + f * self.k + x] - OBJ
                if 0 <= v < no:
                    out[v] = True
        return out

    def apply(self, s: tuple[int, ...], p: list[int] | tuple[int, ...]) -> tuple[int, ...]:
        """π(s) for the permutation p (object i becomes object p[i])."""
        no = self.objects
        o = list(s)
        for base in self.arrays:
            for i in range(no):
                o[base + p[i]] = s[base + i]
        if self.prop >= 0:
            ns = self.slots
            for i in range(no):
                to, at = self.prop + p[i] * ns, self.prop + i * ns
                o[to:to + ns] = s[at:at + ns]
        for at in self.references:
            v = o[at] - OBJ
            if 0 <= v < no:
                o[at] = OBJ + p[v]
        k = self.k
        for f in range(self.frames):
            code = s[self.frame_alg + f]
            mask = self.masks.get(code, ())
            for x in range(k):
                at = self.frame_local + f * k + x
                v = o[at]
                if x in mask:  # bits past the objects' (Symbols in _S_) stay where they are
                    o[at] = sum(1 << p[i] for i in range(no) if v >> i & 1) | (v >> no << no)
                elif 0 <= v - OBJ < no:
                    o[at] = OBJ + p[v - OBJ]
        return tuple(o)

    def _layout(self, s: tuple[int, ...]) -> tuple[list[int], list[int], list[int]] | None:
        """(the allocated slots, R's members, the order-free freed objects), each in index order;
        None when no permutation besides the identity is allowed."""
        no = self.objects
        rel = self.relevant(s)
        used = [i for i in range(no) if s[self.status + i] != NONE]
        free = [i for i in used if not rel[i] and s[self.status + i] == FREED]
        if not free:
            return None
        return used, [i for i in used if rel[i] or s[self.status + i] != FREED], free

    def canonical(self, s: tuple[int, ...]) -> tuple[int, ...]:
        """The representative of s's class (see the module's docstring)."""
        parts = self._layout(s)
        if parts is None:
            return s
        used, fixed, free = parts
        p = list(range(self.objects))
        for i, at in zip(fixed, used, strict=False):  # (R first, in its own order)
            p[i] = at
        rest = used[len(fixed):]
        if len(free) > FREE_EXACT:
            for i, at in zip(free, rest, strict=True):
                p[i] = at
            return self.apply(s, p)
        best: tuple[int, ...] | None = None
        for order in permutations(rest):
            for i, at in zip(free, order, strict=True):
                p[i] = at
            t = self.apply(s, p)
            if best is None or t < best:
                best = t
        assert best is not None
        return best

    def orbit(self, s: tuple[int, ...]) -> set[tuple[int, ...]]:
        """Every state the reduction takes to be s: s under each allowed permutation (R's members
        anywhere among the allocated slots in their own order, the freed order-free ones in any
        order in the rest). A certificate's invariant is the union of its representatives' orbits,
        closed under the symmetry as an inductive invariant of the whole relation must be."""
        parts = self._layout(s)
        if parts is None:
            return {s}
        used, fixed, free = parts
        out = set()
        p = list(range(self.objects))
        for order in permutations(used):
            if list(sorted(order[: len(fixed)])) != list(order[: len(fixed)]):
                continue
            for i, at in zip(fixed + free, order, strict=True):
                p[i] = at
            out.add(self.apply(s, p))
        return out

    def orbits(self, states: np.ndarray) -> np.ndarray:
        """The union of the rows' orbits (`orbit` of each row), each state once: what a
        certificate's invariant holds when the search kept representatives. Computed a
        permutation at a time over every row at once (objects! permutations)."""
        no = self.objects
        st = states[:, self.status:self.status + no]
        rel = st == LIVE
        for f in range(self.frames):
            code = states[:, self.frame_alg + f]
            for c, xs in self.cursors.items():
                for x in xs:
                    v = states[:, self.frame_local + f * self.k + x].astype(np.int64) - OBJ
                    hit = (code == c) & (v >= 0) & (v < no)
                    rel[np.nonzero(hit)[0], v[hit]] = True
        some = ((st == FREED) & ~rel).any(axis=1)
        rows, rows_rel, rows_st = states[some], rel[some], st[some]
        out = [states]
        ident = np.arange(no)
        for perm in permutations(range(no)):
            p = np.array(perm)
            if (p == ident).all():
                continue
            ok = np.all((rows_st != NONE) | (p == ident), axis=1)  # never-used slots stay
            for i, j in combinations(range(no), 2):  # R keeps its order
                if p[i] > p[j]:
                    ok &= ~(rows_rel[:, i] & rows_rel[:, j])
            if ok.any():
                out.append(self._apply_rows(rows[ok], p))
        both = np.ascontiguousarray(np.concatenate(out))
        flat = both.view(np.dtype((np.void, both.shape[1])))
        _, first = np.unique(flat, return_index=True)
        return both[np.sort(first)]

    def _apply_rows(self, rows: np.ndarray, p: np.ndarray) -> np.ndarray:
        """`apply` to every row at once."""
        no, k = self.objects, self.k
        o = rows.copy()
        for base in self.arrays:
            o[:, base + p] = rows[:, base:base + no]
        if self.prop >= 0:
            ns = self.slots
            for i in range(no):
                to, at = self.prop + p[i] * ns, self.prop + i * ns
                o[:, to:to + ns] = rows[:, at:at + ns]
        lut = np.arange(256, dtype=np.uint8)
        lut[OBJ:OBJ + no] = OBJ + p
        refs = list(self.references)
        o[:, refs] = lut[o[:, refs]]
        for f in range(self.frames):
            code = rows[:, self.frame_alg + f]
            for x in range(k):
                col = self.frame_local + f * k + x
                v = o[:, col]
                mask_codes = [c for c, xs in self.masks.items() if x in xs]
                is_mask = np.isin(code, mask_codes)
                bits = ((v >> no) << no).astype(np.uint8)  # Symbols' bits in _S_ stay
                for i in range(no):
                    bits |= ((v >> i) & 1).astype(np.uint8) << np.uint8(p[i])
                o[:, col] = np.where(is_mask, bits, lut[v])
        return o

    # the same computation in C, for the native explorer (model/cprint.py) ----------------------
    def c_source(self, codes: int) -> str:
        """`canon(s)`: s replaced by its representative in place, as `canonical` computes it (the
        same candidates, the same smallest state), for a program of `codes` algorithm codes."""
        no, k = self.objects, self.k

        def table(name: str, rows: dict[int, frozenset[int]]) -> str:
            cells = ",".join("{" + ",".join(str(int(x in rows.get(c, ()))) for x in range(k)) + "}"
                             for c in range(codes))
            return f"static const unsigned char {name}[{codes}][{k}] = {{{cells}}};"

        def ints(name: str, xs: tuple[int, ...]) -> str:
            return f"static const int {name}[{max(len(xs), 1)}] = {{{','.join(map(str, xs)) or '0'}}};"

        return "\n".join([
            f"#define SYM_NO {no}", f"#define SYM_K {k}", f"#define SYM_CODES {codes}",
            ints("SYM_ARR", self.arrays), ints("SYM_REF", self.references),
            table("SYM_MASK", self.masks), table("SYM_CUR", self.cursors),
            "static void sym_apply(const u8 *s, u8 *o, const int *p) {",
            "  memcpy(o, s, W);",
            f"  for (int a = 0; a < {len(self.arrays)}; a++)",
            "    for (int i = 0; i < SYM_NO; i++) o[SYM_ARR[a] + p[i]] = s[SYM_ARR[a] + i];",
            *([f"  for (int i = 0; i < SYM_NO; i++) memcpy(o + {self.prop} + p[i] * {self.slots}, "
               f"s + {self.prop} + i * {self.slots}, {self.slots});"] if self.prop >= 0 else []),
            f"  for (int r = 0; r < {len(self.references)}; r++) {{",
            f"    int v = (int)o[SYM_REF[r]] - {OBJ};",
            f"    if (v >= 0 && v < SYM_NO) o[SYM_REF[r]] = (u8)({OBJ} + p[v]);",
            "  }",
            f"  for (int f = 0; f < {self.frames}; f++) {{",
            f"    unsigned code = s[{self.frame_alg} + f];",
            "    for (int x = 0; x < SYM_K; x++) {",
            f"      int at = {self.frame_local} + f * SYM_K + x; unsigned v = o[at];",
            "      if (code < SYM_CODES && SYM_MASK[code][x]) {",
            "        unsigned m = v >> SYM_NO << SYM_NO;  /* Symbols' bits stay */",
            "        for (int i = 0; i < SYM_NO; i++) if (v >> i & 1u) m |= 1u << p[i];",
            "        o[at] = (u8)m;",
            f"      }} else if (v >= {OBJ}u && v < {OBJ + no}u) o[at] = (u8)({OBJ} + p[v - {OBJ}]);",
            "    }", "  }", "}",
            "static int sym_next(int *a, int n) {  /* the next permutation in lexicographic order */",
            "  int i = n - 2; while (i >= 0 && a[i] >= a[i + 1]) i--; if (i < 0) return 0;",
            "  int j = n - 1; while (a[j] <= a[i]) j--; int t = a[i]; a[i] = a[j]; a[j] = t;",
            "  for (int l = i + 1, r = n - 1; l < r; l++, r--) { t = a[l]; a[l] = a[r]; a[r] = t; }",
            "  return 1;", "}",
            "static void canon(u8 *s) {",
            "  int rel[SYM_NO], used[SYM_NO], fixed[SYM_NO], fr[SYM_NO], nu = 0, nf = 0, nfr = 0;",
            f"  for (int i = 0; i < SYM_NO; i++) rel[i] = s[{self.status} + i] == {LIVE};",
            f"  for (int f = 0; f < {self.frames}; f++) {{",
            f"    unsigned code = s[{self.frame_alg} + f];",
            "    if (code >= SYM_CODES) continue;",
            "    for (int x = 0; x < SYM_K; x++) if (SYM_CUR[code][x]) {",
            f"      int v = (int)s[{self.frame_local} + f * SYM_K + x] - {OBJ};",
            "      if (v >= 0 && v < SYM_NO) rel[v] = 1;",
            "    }", "  }",
            "  for (int i = 0; i < SYM_NO; i++) {",
            f"    if (s[{self.status} + i] == {NONE}) continue;",
            "    used[nu++] = i;",
            f"    if (rel[i] || s[{self.status} + i] != {FREED}) fixed[nf++] = i; else fr[nfr++] = i;",
            "  }",
            "  if (!nfr) return;",
            "  int p[SYM_NO], ord[SYM_NO]; u8 best[W], tmp[W]; int have = 0;",
            "  for (int i = 0; i < SYM_NO; i++) p[i] = i;",
            "  for (int t = 0; t < nf; t++) p[fixed[t]] = used[t];",
            "  for (int t = 0; t < nfr; t++) ord[t] = t;",
            f"  if (nfr > {FREE_EXACT}) {{",
            "    for (int t = 0; t < nfr; t++) p[fr[t]] = used[nf + t];",
            "    sym_apply(s, tmp, p); memcpy(s, tmp, W); return;", "  }",
            "  do {",
            "    for (int t = 0; t < nfr; t++) p[fr[t]] = used[nf + ord[t]];",
            "    sym_apply(s, tmp, p);",
            "    if (!have || memcmp(tmp, best, W) < 0) { memcpy(best, tmp, W); have = 1; }",
            "  } while (sym_next(ord, nfr));",
            "  memcpy(s, best, W);", "}"])


NO_CANON = "static void canon(u8 *s) { (void)s; }"  # the C text of a model the reduction cannot take


_ON = frozenset({"", "1", "on", "true", "yes"})
_OFF = frozenset({"0", "off", "false", "no"})


def switched_off() -> str:
    """Why `SPECMC_SYMMETRY` turns the reduction off ("" when it leaves it on, the default):
    0, off, false, no turn it off; a value specmc cannot read turns it off too and says so,
    never silently meaning "on"."""
    import os

    setting = os.environ.get("SPECMC_SYMMETRY", "")
    word = setting.strip().lower()
    if word in _OFF:
        return f"turned off (SPECMC_SYMMETRY={setting})"
    if word not in _ON:
        return (f"SPECMC_SYMMETRY={setting} is not understood (1, on, true, yes turn it on; 0, off, "
                "false, no turn it off)")
    return ""
