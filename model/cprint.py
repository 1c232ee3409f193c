"""A program and its predicates printed as one C text: the native explorer's source.

Every command's guard and writes and every property's predicate are the same Z3 terms the
solvers use (model/symbolic.py), printed by model/native.py's printer with C syntax, one
function per command; a fixed runtime (breadth-first search, visited set, parents) follows.
model/ccompile.py compiles the text, model/cexplore.py runs it.
"""

from __future__ import annotations

import z3
from specmc.model.layout import Layout
from specmc.model.native import Printer, Syntax, state_names
from specmc.model.program import Command, Program
from specmc.model.symbolic import Writes, command_term, command_terms, state_vars
from specmc.model.symmetry import NO_CANON, NotSymmetric, Symmetry
from specmc.model.terms import Nodes

ABI = 8  # bump when the generated interface or the runtime changes: cached libraries are keyed on it too


class _CSyntax(Syntax):
    """C over unsigned temporaries: booleans are 0/1, bit-vectors bytes masked after + and -."""

    true, false = "1", "0"
    not_, and_, or_ = "!{0}", " && ", " || "
    ite = "{0} ? {1} : {2}"
    mask = " & 255u"
    temp = "  unsigned {0} = {1};"

    def literal(self, v: int) -> str:
        return str(v & 0xFF)


def _c_printer(nodes: Nodes, state: dict[int, str]) -> Printer:
    return Printer(nodes, state, _CSyntax())


def _command_c(n: int, guard: z3.BoolRef | bool, writes: Writes, width: int, nodes: Nodes,
               state: dict[int, str], frozen: frozenset[int]) -> str:
    p = _c_printer(nodes, state)
    top = nodes.get(guard) if not isinstance(guard, bool) else None
    kind, children = (top.kind, top.children) if top is not None else (0, ())
    if guard is False:
        p.lines.append("  return 0;")
    elif guard is not True:
        for c in children if kind == z3.Z3_OP_AND else (guard,):
            if nodes.get(c).kind == z3.Z3_OP_TRUE:
                continue
            p.lines.append(f"  if (!({p.value(c)})) return 0;")
    stores = []
    for i in range(width):
        if i in writes and i not in frozen:
            v = p.value(writes[i])
            if v != f"s[{i}]":
                stores.append(f"  o[{i}] = (u8)({v});")
    return "\n".join([f"static int c{n}(const u8 *s, u8 *o) {{", *p.lines,
                      f"  memcpy(o, s, {width});", *stores, "  return 1;", "}"])


def _predicate_c(n: int, term: z3.BoolRef | bool, nodes: Nodes, state: dict[int, str]) -> str:
    p = _c_printer(nodes, state)
    v = p.value(term)
    return "\n".join([f"static int p{n}(const u8 *s) {{", *p.lines, f"  return ({v}) != 0;", "}"])


_RUNTIME = r"""
typedef long long i64;
typedef unsigned long long u64;
typedef int (*progress_fn)(i64 states, int depth);
#if defined(__GNUC__) && !defined(__TINYC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

static u8 *st; static uint32_t *par; static int32_t *cmdof; static uint16_t *dep;
static i64 cap, count; static u64 *tab; static u64 tabmask;

static u64 hash(const u8 *s) {
  u64 h = 0x9E3779B97F4A7C15ull; int i = 0;
  for (; i + 8 <= W; i += 8) {
    u64 v; memcpy(&v, s + i, 8); h = (h ^ v) * 0xff51afd7ed558ccdull; h ^= h >> 29;
  }
  for (; i < W; i++) { h = (h ^ s[i]) * 0x100000001b3ull; }
  h ^= h >> 32; return h;
}

/* a table slot: the state's index + 1 in the low 32 bits, its hash's high 32 bits above them; the
   slot is chosen by those same bits, so growing never reads a state again, and a probe compares
   a state only when its 32 bits agree */
static int grow(void) {
  i64 nc = cap ? cap * 2 : 1 << 16;
  u8 *a = realloc(st, (size_t)nc * W); if (!a) return 0; st = a;
  uint32_t *b = realloc(par, (size_t)nc * 4); if (!b) return 0; par = b;
  int32_t *c = realloc(cmdof, (size_t)nc * 4); if (!c) return 0; cmdof = c;
  uint16_t *d = realloc(dep, (size_t)nc * 2); if (!d) return 0; dep = d;
  u64 tsize = (u64)nc * 2; u64 *t = calloc(tsize, 8); if (!t) return 0;
  u64 mask = tsize - 1;
  if (tab) for (u64 k = 0; k <= tabmask; k++) if (tab[k]) {
    u64 h = (tab[k] >> 32) & mask;
    while (t[h]) h = (h + 1) & mask;
    t[h] = tab[k];
  }
  free(tab); tab = t; tabmask = mask; cap = nc;
  return 1;
}

/* the index of the state s, whose hash's high 32 bits are tag, among the visited states, adding it
   (-1 - index: it was new); -2**40: no memory */
static i64 visit(const u8 *s, u64 tag) {
  if (count >= cap && !grow()) return -((i64)1 << 40);
  u64 h = tag & tabmask;
  while (tab[h]) {
    if ((tab[h] >> 32) == tag) {
      i64 k = (i64)(tab[h] & 0xFFFFFFFFu) - 1;
      if (!memcmp(st + k * W, s, W)) return k;
    }
    h = (h + 1) & tabmask;
  }
  memcpy(st + count * W, s, W); tab[h] = (tag << 32) | (u64)(count + 1);
  return -1 - count++;
}

void release(void) { free(st); free(par); free(cmdof); free(dep); free(tab);
  st = 0; par = 0; cmdof = 0; dep = 0; tab = 0; cap = count = 0; }

/* hands the states, parents and commands over to the caller, who frees each with specmc_free;
   the states shrunk to their count (in place, or by remapping: no second copy) */
void detach(u8 **s, uint32_t **p, int32_t **c) {
  free(tab); free(dep); tab = 0; dep = 0;
  if (count) {
    u8 *a = realloc(st, (size_t)count * W); if (a) st = a;
    uint32_t *b = realloc(par, (size_t)count * 4); if (b) par = b;
    int32_t *d = realloc(cmdof, (size_t)count * 4); if (d) cmdof = d;
  }
  *s = st; *p = par; *c = cmdof; st = 0; par = 0; cmdof = 0; cap = count = 0;
}
void specmc_free(void *p) { free(p); }

/* Breadth first, the successors of a batch of states are made by several threads (the
   caller's and threads-1 more), each taking every threads-th state of the batch and writing into
   that state's own region: the commands, the representative and the hash are pure functions of the
   state, so who makes them changes nothing. Only the calling thread then looks them up and adds
   them, in the batch's order, so the visited order, the parents, the violations and where the
   search stops are those of one thread (model/cexplore.py compares them). */
#define MAXT 64
static struct {
  i64 lo, hi; int max_depth, sym, threads; u8 *buf; int32_t *which; u64 *tags; int *cnt;
  pthread_mutex_t mu; pthread_cond_t go, done; int gen, left, quitting;
} B = { .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static void expand(int t) {
  for (i64 cur = B.lo + t; cur < B.hi; cur += B.threads) {
    i64 r = cur - B.lo;
    if (dep[cur] >= B.max_depth) { B.cnt[r] = 0; continue; }
    u8 *o = B.buf + r * MAXSUCC * W;
    int n = succ(st + cur * W, o, B.which + r * MAXSUCC);
    for (int j = 0; j < n; j++) {
      if (B.sym) canon(o + (i64)j * W);
      B.tags[r * MAXSUCC + j] = hash(o + (i64)j * W) >> 32;
    }
    B.cnt[r] = n;
  }
}

static void *expander(void *arg) {
  int t = (int)(intptr_t)arg, seen = 0;
  pthread_mutex_lock(&B.mu);
  for (;;) {
    while (B.gen == seen && !B.quitting) pthread_cond_wait(&B.go, &B.mu);
    if (B.quitting) break;
    seen = B.gen;
    pthread_mutex_unlock(&B.mu);
    expand(t);
    pthread_mutex_lock(&B.mu);
    if (--B.left == 0) pthread_cond_signal(&B.done);
  }
  pthread_mutex_unlock(&B.mu);
  return 0;
}

/* out[0] states, out[1] transitions, out[2] complete, out[3] 1 if memory ran out, out[4] what the
   progress callback answered to stop it (0: it did not); viol[k]: index of the first state
   violating predicate k, or -1. sym: each successor is replaced by its representative (canon,
   model/symmetry.py). threads: how many make successors (above) */
void search(const u8 *init, int max_depth, i64 max_states, const int *asked, const int *stop_at,
            progress_fn progress, int sym, i64 *out, i64 *viol, int threads) {
  /* the successors of a batch of states are made (above), then their table slots fetched before
     any of them is looked up: the lookups, in the same order as one state at a time, then find
     their slots in the cache instead of waiting on memory one after another */
  int pending = 0, nasked = 0, stopped = 0, complete = 1, nomem = 0, quit = 0, started = 0;
  i64 transitions = 0; pthread_t thr[MAXT];
  i64 batch = threads > 1 ? 512 : 64;
  if (threads < 1) threads = 1;
  if (threads > MAXT) threads = MAXT;
  release();
  for (int i = 0; i < 5; i++) out[i] = 0;
  B.buf = malloc((size_t)batch * MAXSUCC * W); B.which = malloc((size_t)batch * MAXSUCC * 4);
  B.tags = malloc((size_t)batch * MAXSUCC * 8); B.cnt = malloc((size_t)batch * sizeof(int));
  B.max_depth = max_depth; B.sym = sym; B.threads = 1; B.gen = 0; B.quitting = 0;
  if (!B.buf || !B.which || !B.tags || !B.cnt) { nomem = 1; complete = 0; goto end; }
  for (int k = 0; k < NPRED; k++) { viol[k] = -1; pending += asked[k]; }
  nasked = pending;
  u64 tag0 = hash(init) >> 32;
  i64 r = visit(init, tag0);
  if (r == -((i64)1 << 40)) { nomem = 1; complete = 0; goto end; }
  par[0] = 0xFFFFFFFFu; cmdof[0] = -1; dep[0] = 0;
  for (int k = 0; k < NPRED; k++)
    if (asked[k] && !pred(k, init)) { viol[k] = 0; pending--; stopped |= stop_at[k]; }
  while (started + 1 < threads
         && !pthread_create(&thr[started], 0, expander, (void *)(intptr_t)(started + 1)))
    started++;
  B.threads = started + 1;
  i64 head = 0;
  while (head < count && (pending || !nasked) && !stopped) {
    i64 lo = head, hi = count < head + batch ? count : head + batch;
    B.lo = lo; B.hi = hi;
    if (started) {
      pthread_mutex_lock(&B.mu); B.left = started; B.gen++;
      pthread_cond_broadcast(&B.go); pthread_mutex_unlock(&B.mu);
    }
    expand(0);
    if (started) {
      pthread_mutex_lock(&B.mu);
      while (B.left) pthread_cond_wait(&B.done, &B.mu);
      pthread_mutex_unlock(&B.mu);
    }
    for (i64 k = 0; k < hi - lo; k++)
      for (int j = 0; j < B.cnt[k]; j++) PREFETCH(tab + (B.tags[k * MAXSUCC + j] & tabmask));
    for (i64 cur = lo; cur < hi; cur++) {
      if (!((pending || !nasked) && !stopped)) break;
      head = cur + 1;
      if (progress && !(head & 0xFFFF) && (quit = progress(count, dep[cur]))) { complete = 0; break; }
      if (dep[cur] >= max_depth) { complete = 0; continue; }
      i64 rr = cur - lo;
      for (int j = 0; j < B.cnt[rr]; j++) {
        transitions++;
        i64 v = visit(B.buf + (rr * MAXSUCC + j) * W, B.tags[rr * MAXSUCC + j]);
        if (v == -((i64)1 << 40)) { nomem = 1; complete = 0; head = count; break; }
        if (v >= 0) continue;
        i64 idx = -1 - v;
        par[idx] = (uint32_t)cur; cmdof[idx] = B.which[rr * MAXSUCC + j]; dep[idx] = (uint16_t)(dep[cur] + 1);
        const u8 *s = st + idx * W;
        for (int k = 0; k < NPRED; k++)
          if (asked[k] && viol[k] < 0 && !pred(k, s)) { viol[k] = idx; pending--; stopped |= stop_at[k]; }
        if (count >= max_states) { complete = 0; head = count; break; }
      }
      if (nomem || head == count) break;
    }
    if (nomem || quit) break;
  }
  out[2] = complete && head >= count;
end:
  if (started) {
    pthread_mutex_lock(&B.mu); B.quitting = 1; pthread_cond_broadcast(&B.go); pthread_mutex_unlock(&B.mu);
    for (int t = 0; t < started; t++) pthread_join(thr[t], 0);
  }
  free(B.buf); free(B.which); free(B.tags); free(B.cnt); B.buf = 0; B.which = 0; B.tags = 0; B.cnt = 0;
  out[0] = count; out[1] = transitions; out[3] = nomem; out[4] = quit;
}

/* the same search, depth first: the first successor not yet visited is taken at once, the stack
   holding each level's successors (made once) and how many were taken. A state is expanded where
   it is first found, even if a shorter run leads to it, so a bound on steps leaves the search
   incomplete wherever it stops a run. Runs found are as deep as they come (not the shortest); the
   point is to reach deep states a breadth-first search of the same size never gets to */
/* the n successors at b (and their commands) in an order drawn from key (a state's hash mixed with
   a seed): Fisher-Yates over splitmix64, so one seed gives one order at every state, every run */
static void shuffle(u8 *b, int32_t *which, int n, u64 key) {
  u8 tmp[W];
  for (int i = n - 1; i > 0; i--) {
    key += 0x9E3779B97F4A7C15ull;
    u64 z = key;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull; z = (z ^ (z >> 27)) * 0x94D049BB133111EBull; z ^= z >> 31;
    int j = (int)(z % (u64)(i + 1));
    if (j == i) continue;
    memcpy(tmp, b + (i64)i * W, W); memcpy(b + (i64)i * W, b + (i64)j * W, W); memcpy(b + (i64)j * W, tmp, W);
    int32_t t = which[i]; which[i] = which[j]; which[j] = t;
  }
}

/* seed 0: each state's successors in the order succ() makes them; another seed: shuffled by it */
void search_dfs(const u8 *init, int max_depth, i64 max_states, const int *asked, const int *stop_at,
                progress_fn progress, int sym, i64 *out, i64 *viol, u64 seed) {
  int pending = 0, nasked = 0, stopped = 0, complete = 1, nomem = 0, quit = 0; i64 transitions = 0;
  u8 *buf = 0; int32_t *which = 0; int *n = 0, *pos = 0; i64 *at = 0; int levels = 0, sp = 0;
  i64 ticks = 0;
  release();
  for (int k = 0; k < NPRED; k++) { viol[k] = -1; pending += asked[k]; }
  nasked = pending;
  i64 r = visit(init, hash(init) >> 32);
  if (r == -((i64)1 << 40)) { out[3] = 1; return; }
  par[0] = 0xFFFFFFFFu; cmdof[0] = -1; dep[0] = 0;
  for (int k = 0; k < NPRED; k++)
    if (asked[k] && !pred(k, init)) { viol[k] = 0; pending--; stopped |= stop_at[k]; }
  if (max_depth > 65535) max_depth = 65535; /* (dep is 16 bits) */
  if (max_depth < 1) { complete = 0; sp = -1; }
  while (sp >= 0 && (pending || !nasked) && !stopped) {
    if (sp == levels - 1 || !levels) { /* make room for one more level */
      int nl = levels ? levels * 2 : 64;
      u8 *a = realloc(buf, (size_t)nl * MAXSUCC * W); if (a) buf = a;
      int32_t *b = realloc(which, (size_t)nl * MAXSUCC * 4); if (b) which = b;
      int *c = realloc(n, (size_t)nl * sizeof(int)); if (c) n = c;
      int *d = realloc(pos, (size_t)nl * sizeof(int)); if (d) pos = d;
      i64 *e = realloc(at, (size_t)nl * 8); if (e) at = e;
      if (!a || !b || !c || !d || !e) { nomem = 1; complete = 0; break; }
      if (!levels) {
        at[0] = 0; n[0] = succ(st, buf, which); pos[0] = 0;
        if (seed) shuffle(buf, which, n[0], hash(st) ^ seed);
      }
      levels = nl;
    }
    if (progress && !(++ticks & 0xFFFF) && (quit = progress(count, sp))) { complete = 0; break; }
    if (pos[sp] == n[sp]) { sp--; continue; }
    int j = pos[sp]++;
    u8 *s = buf + ((i64)sp * MAXSUCC + j) * W;
    if (sym) canon(s);
    transitions++;
    i64 v = visit(s, hash(s) >> 32);
    if (v == -((i64)1 << 40)) { nomem = 1; complete = 0; break; }
    if (v >= 0) continue;
    i64 idx = -1 - v;
    par[idx] = (uint32_t)at[sp]; cmdof[idx] = which[(i64)sp * MAXSUCC + j]; dep[idx] = (uint16_t)(sp + 1);
    const u8 *t = st + idx * W;
    for (int k = 0; k < NPRED; k++)
      if (asked[k] && viol[k] < 0 && !pred(k, t)) { viol[k] = idx; pending--; stopped |= stop_at[k]; }
    if (count >= max_states) { complete = 0; break; }
    if (sp + 1 >= max_depth) { complete = 0; continue; }
    sp++; at[sp] = idx; pos[sp] = 0;
    n[sp] = succ(st + idx * W, buf + (i64)sp * MAXSUCC * W, which + (i64)sp * MAXSUCC);
    if (seed)
      shuffle(buf + (i64)sp * MAXSUCC * W, which + (i64)sp * MAXSUCC, n[sp], hash(st + idx * W) ^ seed);
  }
  free(buf); free(which); free(n); free(pos); free(at);
  out[0] = count; out[1] = transitions; out[2] = complete && sp < 0; out[3] = nomem; out[4] = quit;
}

/* Depth first with hash compaction (Wolper and Leroy; SPIN's -DHC): the visited set keeps only a
   64-bit fingerprint of each state, 8 bytes in a table the caller sizes from memory, instead of
   the state, its parent and its command (about 150 bytes at 3 objects). The states of the run
   being searched are the stack itself, so a violation's path is the stack, copied out for the
   predicate it broke (hc_path). What is given up: two states with one fingerprint are one state
   to the search, so a state whose fingerprint a visited state has is skipped unseen (for n states
   that happens with probability about n*n/2**65 if fingerprints behave as random 64-bit
   numbers), and no reachable set is kept, so a run proves nothing. It finds violations, each then
   replayed by the reference interpreter like every other.
   out: as search_dfs's; out[3] 1 if the table filled (to 3/4, or the stack could not grow),
   out[5] the deepest level reached. viol[k]: the length of the path that broke predicate k. */
static u64 *fp; static u64 fpmask; static i64 fpcount;
static u8 *hpath[NPRED + 1]; static int32_t *hcmd[NPRED + 1]; static i64 hlen[NPRED + 1];

static u64 fingerprint(const u8 *s) {
  u64 z = hash(s);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull; z = (z ^ (z >> 27)) * 0x94D049BB133111EBull; z ^= z >> 31;
  return z ? z : 1; /* (0 marks an empty slot) */
}

/* 1 if s was new (and is now in the table), 0 if its fingerprint was there, -1 if the table is full */
static int hc_visit(const u8 *s) {
  if ((u64)fpcount >= (fpmask + 1) / 4 * 3) return -1;
  u64 f = fingerprint(s), h = (f >> 17) & fpmask;
  while (fp[h]) { if (fp[h] == f) return 0; h = (h + 1) & fpmask; }
  fp[h] = f; fpcount++;
  return 1;
}

void hc_release(void) {
  free(fp); fp = 0; fpmask = 0; fpcount = 0;
  for (int k = 0; k <= NPRED; k++) { free(hpath[k]); free(hcmd[k]); hpath[k] = 0; hcmd[k] = 0; hlen[k] = 0; }
}

/* the path that broke predicate k: hlen[k] + 1 states and the command that reached each (-1 first) */
void hc_path(int k, u8 *states, int32_t *cmds) {
  memcpy(states, hpath[k], (size_t)(hlen[k] + 1) * W); memcpy(cmds, hcmd[k], (size_t)(hlen[k] + 1) * 4);
}

/* keeps the stack's path (levels 0..sp, then t reached by command c) as predicate k's */
static int hc_keep(int k, const u8 *path, const int32_t *taken, int sp, const u8 *t, int32_t c) {
  hpath[k] = malloc((size_t)(sp + 2) * W); hcmd[k] = malloc((size_t)(sp + 2) * 4);
  if (!hpath[k] || !hcmd[k]) return 0;
  memcpy(hpath[k], path, (size_t)(sp + 1) * W); memcpy(hpath[k] + (i64)(sp + 1) * W, t, W);
  memcpy(hcmd[k], taken, (size_t)(sp + 1) * 4); hcmd[k][sp + 1] = c; hlen[k] = sp + 1;
  return 1;
}

void search_hc(const u8 *init, int max_depth, i64 max_states, const int *asked, const int *stop_at,
               progress_fn progress, int sym, i64 *out, i64 *viol, u64 seed, u64 slots) {
  int pending = 0, nasked = 0, stopped = 0, complete = 1, full = 0, quit = 0, levels = 0, sp = 0, deepest = 0;
  i64 transitions = 0, ticks = 0; static const int32_t none = -1;
  u8 *buf = 0, *path = 0; int32_t *which = 0, *taken = 0; int *n = 0, *pos = 0;
  hc_release();
  for (int i = 0; i < 6; i++) out[i] = 0;
  u64 size = 1024; while (size < slots && size < ((u64)1 << 40)) size <<= 1;
  fp = calloc(size, 8);
  if (!fp) { out[3] = 1; return; }
  fpmask = size - 1;
  for (int k = 0; k < NPRED; k++) { viol[k] = -1; pending += asked[k]; }
  nasked = pending;
  hc_visit(init);
  for (int k = 0; k < NPRED; k++)
    if (asked[k] && !pred(k, init)) {
      if (!hc_keep(k, init, &none, -1, init, -1)) { full = 1; break; }
      viol[k] = 0; pending--; stopped |= stop_at[k];
    }
  if (max_depth > 65535) max_depth = 65535;
  if (max_depth < 1) { complete = 0; sp = -1; }
  while (!full && sp >= 0 && (pending || !nasked) && !stopped) {
    if (sp == levels - 1 || !levels) {
      int nl = levels ? levels * 2 : 64;
      u8 *a = realloc(buf, (size_t)nl * MAXSUCC * W); if (a) buf = a;
      int32_t *b = realloc(which, (size_t)nl * MAXSUCC * 4); if (b) which = b;
      int *c = realloc(n, (size_t)nl * sizeof(int)); if (c) n = c;
      int *d = realloc(pos, (size_t)nl * sizeof(int)); if (d) pos = d;
      u8 *e = realloc(path, (size_t)nl * W); if (e) path = e;
      int32_t *f = realloc(taken, (size_t)nl * 4); if (f) taken = f;
      if (!a || !b || !c || !d || !e || !f) { full = 1; complete = 0; break; }
      if (!levels) {
        memcpy(path, init, W); taken[0] = -1;
        n[0] = succ(path, buf, which); pos[0] = 0;
        if (seed) shuffle(buf, which, n[0], hash(path) ^ seed);
      }
      levels = nl;
    }
    if (progress && !(++ticks & 0xFFFF) && (quit = progress(fpcount, sp))) { complete = 0; break; }
    if (pos[sp] == n[sp]) { sp--; continue; }
    int j = pos[sp]++;
    u8 *s = buf + ((i64)sp * MAXSUCC + j) * W;
    if (sym) canon(s);
    transitions++;
    int v = hc_visit(s);
    if (v < 0) { full = 1; complete = 0; break; }
    if (!v) continue;
    int32_t c = which[(i64)sp * MAXSUCC + j];
    if (sp + 1 > deepest) deepest = sp + 1;
    for (int k = 0; k < NPRED; k++)
      if (asked[k] && viol[k] < 0 && !pred(k, s)) {
        if (!hc_keep(k, path, taken, sp, s, c)) { full = 1; complete = 0; break; }
        viol[k] = hlen[k]; pending--; stopped |= stop_at[k];
      }
    if (full) break;
    if (fpcount >= max_states) { complete = 0; break; }
    if (sp + 1 >= max_depth) { complete = 0; continue; }
    sp++;
    memcpy(path + (i64)sp * W, s, W); taken[sp] = c; pos[sp] = 0;
    n[sp] = succ(path + (i64)sp * W, buf + (i64)sp * MAXSUCC * W, which + (i64)sp * MAXSUCC);
    if (seed)
      shuffle(buf + (i64)sp * MAXSUCC * W, which + (i64)sp * MAXSUCC, n[sp], hash(path + (i64)sp * W) ^ seed);
  }
  free(buf); free(which); free(n); free(pos); free(path); free(taken);
  free(fp); fp = 0; fpmask = 0;
  out[0] = fpcount; out[1] = transitions; out[2] = complete && !full && sp < 0; out[3] = full;
  out[4] = quit; out[5] = deepest;
}
"""


def numbering(program: Program) -> tuple[Command, ...]:
    """The commands in the order the C text numbers them: each site's (sites sorted), then the
    unsited ones, each on its first appearance."""
    seen: dict[int, Command] = {}
    for _site, cmds in sorted(program.by_site.items()):
        for c in cmds:
            seen.setdefault(id(c), c)
    for c in program.unsited:
        seen.setdefault(id(c), c)
    return tuple(seen.values())


def predicates_c(program: Program, predicates: list[z3.BoolRef | bool]) -> str:
    """The predicates' C functions and their dispatch (cheap: a few small terms)."""
    xs = state_vars(program)
    nodes, state = Nodes(), state_names(xs)
    preds = [_predicate_c(k, t, nodes, state) for k, t in enumerate(predicates)]
    dispatch = "\n".join(["static int pred(int k, const u8 *s) {", "  switch (k) {",
                          *[f"  case {k}: return p{k}(s);" for k in range(len(predicates))],
                          "  default: return 1;", "  }", "}"])
    return "\n\n".join([*preds, dispatch])


def source(program: Program, predicates: list[z3.BoolRef | bool]) -> tuple[str, tuple[Command, ...]]:
    """The C text of `program` with `predicates` (Z3 terms over its state variables), and the
    commands in the order the text numbers them."""
    xs = state_vars(program)
    nodes, state = Nodes(), state_names(xs)
    lay: Layout = program.layout
    width = lay.size
    frozen = frozenset(program.dropped)
    commands = numbering(program)
    number = {id(c): n for n, c in enumerate(commands)}
    # the solvers' terms of the commands that are not a family's member, built once per model
    # (model/symbolic.py keeps them): firing 1,214 commands again cost 3 s of the 5 s this takes
    known = {id(c): (guard, writes) for c, (_name, guard, writes)
             in zip(program.symbolic_commands, command_terms(program, xs), strict=True) if not c.family}
    funcs = []
    for n, c in enumerate(commands):
        guard, writes = known.get(id(c)) or command_term(program, c, xs)
        funcs.append(_command_c(n, guard, writes, width, nodes, state, frozen))

    def call(c: Command, indent: str) -> str:
        return f"{indent}if (c{number[id(c)]}(s, b + n * W)) which[n++] = {number[id(c)]};"

    cases = []
    most = len(program.unsited)
    for (d, alg, pc, phase), cmds in sorted(program.by_site.items()):
        calls = [call(c, "      ") for c in cmds]
        most = max(most, len(cmds) + len(program.unsited))
        cases.append("\n".join([f"    case {(d << 24) | (alg << 16) | (pc << 8) | phase}u:", *calls,
                                "      break;"]))
    unsited = [call(c, "  ") for c in program.unsited]
    sp, alg0, pc0, ph0 = (lay.where(n)[0] for n in ("sp", "frame_alg", "frame_pc", "frame_phase"))
    succ = "\n".join([
        "static int succ(const u8 *s, u8 *b, int32_t *which) {",
        "  int n = 0;",
        f"  if (s[{sp}] > 0) {{",
        f"    unsigned d = s[{sp}] - 1u;",
        f"    unsigned key = (d << 24) | ((unsigned)s[{alg0} + d] << 16) | ((unsigned)s[{pc0} + d] << 8)"
        f" | s[{ph0} + d];",
        "    switch (key) {", *cases, "    default: break;", "    }", "  }", *unsited, "  return n;", "}"])
    head = "\n".join(["#include <stdint.h>", "#include <stdlib.h>", "#include <string.h>",
                      "#include <pthread.h>",
                      "typedef uint8_t u8;", f"#define W {width}", f"#define MAXSUCC {max(most, 1)}",
                      f"#define NPRED {len(predicates)}", f"/* specmc native explorer, ABI {ABI} */"])
    try:
        canon = Symmetry.of(program).c_source(len(program.algorithms))
    except NotSymmetric:
        canon = NO_CANON
    text = "\n\n".join([head, *funcs, succ, predicates_c(program, predicates), canon, _RUNTIME])
    return text, commands
