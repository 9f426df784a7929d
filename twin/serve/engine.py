"""The serving engine: requests through routed replicas that run continuous batching step by step.

Compiled with numba: a Python object per request or a SimPy process per replica cannot play a
million requests in seconds. Every figure lives in a NumPy array indexed by request or replica,
and one heap holds the next events (a replica's step ends, a request arrives, a KV transfer
lands). The simulation is exact at step granularity, deterministic (ties broken by time, then
event kind, then index) and never samples: all randomness is in the traffic, drawn before.

A replica's step, as vLLM / SGLang / TensorRT-LLM schedule one:

1. Admission, first come first served: the queue's head joins the running batch while there
   is a sequence slot and its KV cache fits in the replica's KV memory (evicting the least
   recently used prefix-cache entries if that makes room), with one step of growth kept for
   every decoding sequence. A session's earlier turn still cached on the replica is a prefix
   hit: those tokens are not prefilled again.
2. Growth: each decoding sequence writes `tps` more tokens of KV. When they do not fit, the
   newest running sequence is preempted (LIFO, as vLLM): `recompute` drops its KV and prefills
   prompt and output again when readmitted; `swap` moves the KV to host memory and back.
3. The step: one token per decoding sequence, and the prompts being prefilled fill what is
   left of the token budget, in admission order (chunked prefill). Its time is
   `a_B + b_B * mean context` for the B decoding sequences, plus `prefill_s_per_token` per
   prompt token, plus swap traffic.
4. At its end: each decoding sequence emits `tps` tokens; a prompt whose prefill completes
   emits its first token. Done requests free their KV (kept as a prefix-cache entry when they
   belong to a session) and release their session's next turn after its tool delay.

Disaggregated, as Dynamo runs it: a request is routed to a decode replica, which admits it
(a slot and its KV memory, as above) and sends the prompt tokens it does not hold in its prefix
cache to the least loaded prefill replica; their KV is written into the reserved memory
(`xfer_s_per_token` per token) and the first token comes with it. Invariant: a sequence holding KV holds `prompt + gen - 1`
tokens after its first token.
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

STEP, ARRIVE, TRANSFER, KICK = 0, 1, 2, 3  # event kinds, handled in this order at one instant
AGGREGATED, PREFILL, DECODE = 0, 1, 2  # replica roles
ROUND_ROBIN, LEAST_LOADED, KV_AWARE = 0, 1, 2
RECOMPUTE, SWAP = 0, 1
HOST = 1  # a waiting sequence whose KV was swapped out to host memory (0: it has none)


@njit(cache=True)
def _record(qt, qd, nq, t, depth):
    """Append the queue depth at t to the change-point series (one point per instant)."""
    n = nq[0]
    if n > 0 and qt[n - 1] == t:
        qd[n - 1] = depth
    else:
        qt[n] = t
        qd[n] = depth
        nq[0] = n + 1


@njit(cache=True)
def _unlink(e, e_prev, e_next, ehead, etail, r):
    p, q = e_prev[e], e_next[e]
    if p >= 0:
        e_next[p] = q
    else:
        ehead[r] = q
    if q >= 0:
        e_prev[q] = p
    else:
        etail[r] = p


@njit(cache=True)
def _evict(r, kv_cached, e_tok, e_sess, sess_entry, e_prev, e_next, ehead, etail):
    """Drop replica r's least recently used prefix-cache entry."""
    v = ehead[r]
    kv_cached[r] -= e_tok[v]
    _unlink(v, e_prev, e_next, ehead, etail, r)
    if sess_entry[e_sess[v]] == v:
        sess_entry[e_sess[v]] = -1
    if ehead[r] < 0:
        kv_cached[r] = 0.0  # no rounding residue on an empty cache


@njit(cache=True)
def _cache(e, s, tokens, r, sess_entry, e_sess, e_tok, e_rep, e_prev, e_next, ehead, etail, kv_cached):
    """Keep session s's finished context (`tokens` of KV) on replica r as prefix-cache entry e, most recently used."""
    old = sess_entry[s]
    if old >= 0:
        kv_cached[e_rep[old]] -= e_tok[old]
        _unlink(old, e_prev, e_next, ehead, etail, e_rep[old])
    e_sess[e], e_tok[e], e_rep[e] = s, tokens, r
    e_prev[e], e_next[e] = etail[r], -1
    if etail[r] >= 0:
        e_next[etail[r]] = e
    else:
        ehead[r] = e
    etail[r] = e
    kv_cached[r] += tokens
    sess_entry[s] = e


@njit(cache=True)
def _snapshot(into, gen, run, nrun, s_gen):
    """Tokens out of every request now: a running one's from its slot, the others' from `gen`."""
    into[:] = gen
    for r in range(nrun.size):
        for k in range(nrun[r]):
            into[run[r, k]] = s_gen[r, k]


@njit(cache=True)
def _route(want, i, router, role, rtype, nrun, nwait, max_seqs, kv_used, wait_tok, kv_cap, prompt, session, prefix, sess_entry, e_rep,
           e_tok, rr):
    """The replica of role `want` request i goes to (ties: the first)."""
    nr = rtype.size
    if router == ROUND_ROBIN:
        cnt = 0
        for r in range(nr):
            if role[r] == want:
                cnt += 1
        j = rr[want] % cnt
        rr[want] += 1
        for r in range(nr):
            if role[r] == want:
                if j == 0:
                    return r
                j -= 1
    best, best_cost = -1, np.inf
    for r in range(nr):
        if role[r] != want:
            continue
        T = rtype[r]
        if router == LEAST_LOADED or want == PREFILL:
            cost = (nrun[r] + nwait[r]) / max_seqs[T]
        else:  # KV-aware: KV tokens already on the replica plus the prefill this request would add
            h = 0.0
            s = session[i]
            if s >= 0 and prefix[i] > 0:
                e = sess_entry[s]
                if e >= 0 and e_rep[e] == r:
                    h = min(prefix[i], e_tok[e])
            cost = (kv_used[r] + wait_tok[r] + prompt[i] - h) / kv_cap[T]
        if cost < best_cost:
            best, best_cost = r, cost
    return best


@njit(cache=True)
def _enqueue(r, i, qhead, qtail, qnext, nwait, wait_tok, prompt):
    """Append request i to replica r's queue."""
    qnext[i] = -1
    if qtail[r] >= 0:
        qnext[qtail[r]] = i
    else:
        qhead[r] = i
    qtail[r] = i
    nwait[r] += 1
    wait_tok[r] += prompt[i]


@njit(cache=True)
def _remove_slot(r, k, nrun, run, s_gen, s_kv, s_rem, s_out, s_remote, s_dec, s_chunk):
    """Take slot k out of replica r's running sequences, keeping the others (and a step in flight) in admission order."""
    for m in range(k, nrun[r] - 1):
        run[r, m], s_gen[r, m], s_kv[r, m] = run[r, m + 1], s_gen[r, m + 1], s_kv[r, m + 1]
        s_rem[r, m], s_out[r, m], s_remote[r, m] = s_rem[r, m + 1], s_out[r, m + 1], s_remote[r, m + 1]
        s_dec[r, m], s_chunk[r, m] = s_dec[r, m + 1], s_chunk[r, m + 1]
    s_dec[r, nrun[r] - 1], s_chunk[r, nrun[r] - 1] = False, 0.0
    nrun[r] -= 1


@njit(cache=True)
def _pop_head(r, qhead, qtail, qnext, nwait, wait_tok, prompt):
    """Take the head of replica r's queue."""
    i = qhead[r]
    qhead[r] = qnext[i]
    if qhead[r] < 0:
        qtail[r] = -1
    nwait[r] -= 1
    wait_tok[r] -= prompt[i]


@njit(cache=True)
def simulate(opens, arrival, delay, child, prompt, out, session, prefix,
             rtype, role, coef_a, coef_b, prefill_s_per_token, kv_cap, max_seqs, budget, tps, xfer_s_per_token,
             swap_s_per_token, router, preempt, horizon, window):
    """Play the requests; returns per-request times, tokens out and counts, the queue series and per-replica KV figures.

    Requests: `opens` (indices, by arrival) arrive at `arrival`; a session's next turn
    `child[i]` arrives `delay[child]` after request i finishes. Replicas: `rtype` indexes the
    per-type arrays, `role` is AGGREGATED, PREFILL or DECODE. `window` (lo, hi): the tokens
    out of each request at both times are returned, so that what it emitted in (lo, hi] is exact.
    """
    n, nr = prompt.size, rtype.size
    width = max_seqs.max()
    # requests
    t_arr = np.full(n, np.nan)
    t_adm = np.full(n, np.nan)
    t_first = np.full(n, np.nan)
    t_done = np.full(n, np.nan)
    rep = np.full(n, -1, np.int64)
    n_pre = np.zeros(n, np.int64)
    hit_tok = np.zeros(n, np.float64)
    rejected = np.zeros(n, np.bool_)
    gen = np.zeros(n)  # tokens out so far, for a request not running (a running one's is in its slot)
    ready = np.zeros(n, np.int8)
    remote = np.zeros(n)  # disaggregated: prompt tokens a prefill replica computes (those not cached on the decode replica)
    qnext = np.full(n, -1, np.int64)
    # replicas
    # running sequences in admission order, in slots per replica (contiguous, for the per-step loops)
    run = np.empty((nr, width), np.int64)
    s_gen = np.zeros((nr, width))
    s_kv = np.zeros((nr, width))
    s_rem = np.zeros((nr, width))
    s_out = np.zeros((nr, width))
    s_chunk = np.zeros((nr, width))
    s_dec = np.zeros((nr, width), np.bool_)
    s_remote = np.zeros((nr, width), np.bool_)  # disaggregated: waiting for its prompt from a prefill replica
    nrun = np.zeros(nr, np.int64)
    ndec = np.zeros(nr, np.int64)
    qhead = np.full(nr, -1, np.int64)
    qtail = np.full(nr, -1, np.int64)
    nwait = np.zeros(nr, np.int64)
    wait_tok = np.zeros(nr)
    kv_used = np.zeros(nr)
    kv_cached = np.zeros(nr)
    busy = np.zeros(nr, np.bool_)
    kv_int = np.zeros(nr)
    cache_int = np.zeros(nr)
    kv_peak = np.zeros(nr)
    busy_s = np.zeros(nr)
    steps = np.zeros(nr, np.int64)
    rr = np.zeros(3, np.int64)
    # prefix cache: entries in a doubly linked LRU list per replica
    e_sess = np.empty(n, np.int64)
    e_tok = np.empty(n)
    e_rep = np.empty(n, np.int64)
    e_prev = np.empty(n, np.int64)
    e_next = np.empty(n, np.int64)
    ehead = np.full(nr, -1, np.int64)
    etail = np.full(nr, -1, np.int64)
    n_sessions = session.max() + 1 if n > 0 else 0
    sess_entry = np.full(max(n_sessions, 1), -1, np.int64)
    ne = 0
    # queue depth change points
    qt = np.empty(3 * n + 16)
    qd = np.empty(3 * n + 16)
    nq = np.zeros(1, np.int64)
    queued = 0
    _record(qt, qd, nq, 0.0, 0)

    gen_at = np.zeros((2, n))  # tokens out at the window's start and end
    snaps = 0
    heap = [(0.0, 0, 0)]
    heap.pop()
    pos = 0
    t_end = 0.0
    has_prefill = False
    for r in range(nr):
        if role[r] == PREFILL:
            has_prefill = True

    while True:
        if nq[0] + 4 * width + 16 > qt.size:  # room for what one event may record (admissions, preemptions)
            qt = np.concatenate((qt, np.empty(qt.size)))
            qd = np.concatenate((qd, np.empty(qd.size)))
        ta = arrival[opens[pos]] if pos < opens.size else np.inf
        th = heap[0][0] if len(heap) > 0 else np.inf
        if ta == np.inf and th == np.inf:
            break
        if th < ta or (th == ta and heap[0][1] < ARRIVE):
            t, kind, x = heapq.heappop(heap)
        else:
            t, kind, x = ta, ARRIVE, opens[pos]
            pos += 1
        if t > horizon:
            break
        while snaps < 2 and t > window[snaps]:
            _snapshot(gen_at[snaps], gen, run, nrun, s_gen)
            snaps += 1
        t_end = t
        starts = -1  # replica to start a step on, if idle
        if kind == STEP:
            r = x
            T = rtype[r]
            busy[r] = False
            keep = 0
            decoding = 0
            grow = tps[T]
            for k in range(nrun[r]):
                i = run[r, k]
                g, rm = s_gen[r, k], s_rem[r, k]
                finished = False
                leaves = False
                if s_dec[r, k]:
                    g += grow
                    s_dec[r, k] = False
                    finished = g >= s_out[r, k]
                elif s_chunk[r, k] > 0.0:
                    rm -= s_chunk[r, k]
                    s_chunk[r, k] = 0.0
                    if rm <= 0.0:
                        rm = 0.0
                        g += 1.0
                        if role[r] == PREFILL:
                            leaves = True
                        else:
                            if np.isnan(t_first[i]):
                                t_first[i] = t
                            finished = g >= s_out[r, k]
                if leaves or finished:
                    gen[i] = g
                    kv_used[r] -= s_kv[r, k]
                if leaves:  # prefilled: the KV goes to a decode replica
                    heapq.heappush(heap, (t + xfer_s_per_token[T] * remote[i], TRANSFER, i))
                elif finished:
                    t_done[i] = t
                    if session[i] >= 0:  # the session's context stays cached until evicted
                        _cache(ne, session[i], s_kv[r, k], r, sess_entry, e_sess, e_tok, e_rep, e_prev, e_next, ehead, etail, kv_cached)
                        ne += 1
                    c = child[i]
                    if c >= 0:
                        heapq.heappush(heap, (t + delay[c], ARRIVE, c))
                else:
                    if keep < k:
                        run[r, keep] = i
                        s_kv[r, keep] = s_kv[r, k]
                        s_out[r, keep] = s_out[r, k]
                        s_remote[r, keep] = s_remote[r, k]
                    s_gen[r, keep] = g
                    s_rem[r, keep] = rm
                    keep += 1
                    if rm == 0.0:
                        decoding += 1
            nrun[r] = keep
            ndec[r] = decoding
            starts = r
        elif kind == KICK:
            busy[x] = False
            starts = x
        elif kind == TRANSFER:  # a prompt prefilled remotely: its KV has landed on the decode replica holding its slot
            i = x
            r = rep[i]
            t_first[i] = t
            k = 0
            while run[r, k] != i:
                k += 1
            s_gen[r, k], s_rem[r, k], s_remote[r, k] = gen[i], 0.0, False
            if gen[i] >= out[i]:  # one token asked: done with the first
                t_done[i] = t
                kv_used[r] -= s_kv[r, k]
                _remove_slot(r, k, nrun, run, s_gen, s_kv, s_rem, s_out, s_remote, s_dec, s_chunk)
            else:
                ndec[r] += 1
            if not busy[r]:
                busy[r] = True
                heapq.heappush(heap, (t, KICK, r))
        else:
            i = x
            t_arr[i] = t
            r = _route(DECODE if has_prefill else AGGREGATED, i, router, role, rtype, nrun, nwait, max_seqs, kv_used, wait_tok,
                       kv_cap, prompt, session, prefix, sess_entry, e_rep, e_tok, rr)
            rep[i] = r
            _enqueue(r, i, qhead, qtail, qnext, nwait, wait_tok, prompt)
            queued += 1
            _record(qt, qd, nq, t, queued)
            if not busy[r]:  # an idle replica starts once every arrival of this instant is queued
                busy[r] = True
                heapq.heappush(heap, (t, KICK, r))
        if starts < 0 or busy[starts]:
            continue
        # ---- start a step on replica r at t
        r = starts
        T = rtype[r]
        cap = kv_cap[T]
        grow = tps[T]
        io = 0.0
        b = ndec[r]  # running sequences past their prefill
        while qhead[r] >= 0 and nrun[r] < max_seqs[T]:
            i = qhead[r]
            need = remote[i] if role[r] == PREFILL else prompt[i] + gen[i] - (1.0 if ready[i] != 0 else 0.0)
            now_dec = 1 if ready[i] != 0 else 0
            e = -1
            h = 0.0
            s = session[i]
            if ready[i] == 0 and gen[i] == 0.0 and s >= 0 and prefix[i] > 0:
                e = sess_entry[s]
                if e >= 0 and e_rep[e] == r:
                    h = min(prefix[i], e_tok[e], need - 1.0)
                else:
                    e = -1
            if prompt[i] + out[i] + grow > cap:  # cannot finish even alone: never served
                rejected[i] = True
                _pop_head(r, qhead, qtail, qnext, nwait, wait_tok, prompt)
                queued -= 1
                _record(qt, qd, nq, t, queued)
                continue
            room = cap - kv_used[r] - (b + now_dec) * grow  # room if every cache entry were evicted
            if need > room:
                break  # head of line waits for memory
            if e >= 0:  # the hit entry becomes this sequence's KV
                kv_cached[r] -= e_tok[e]
                _unlink(e, e_prev, e_next, ehead, etail, r)
                sess_entry[s] = -1
            while need > room - kv_cached[r] and ehead[r] >= 0:  # evict least recently used entries
                _evict(r, kv_cached, e_tok, e_sess, sess_entry, e_prev, e_next, ehead, etail)
            _pop_head(r, qhead, qtail, qnext, nwait, wait_tok, prompt)
            queued -= 1
            _record(qt, qd, nq, t, queued)
            m = nrun[r]
            run[r, m] = i
            s_gen[r, m] = gen[i]
            s_kv[r, m] = need
            s_out[r, m] = out[i]
            kv_used[r] += need
            if ready[i] == HOST:
                io += need
            s_remote[r, m] = False
            if ready[i] != 0:
                s_rem[r, m] = 0.0
                b += 1
            else:
                s_rem[r, m] = need - h
                if role[r] == DECODE:  # the slot and KV are held here; the prompt goes to a prefill replica
                    s_remote[r, m] = True
                    remote[i] = need - h
                    p = _route(PREFILL, i, router, role, rtype, nrun, nwait, max_seqs, kv_used, wait_tok, kv_cap, prompt, session,
                               prefix, sess_entry, e_rep, e_tok, rr)
                    _enqueue(p, i, qhead, qtail, qnext, nwait, wait_tok, prompt)
                    queued += 1
                    _record(qt, qd, nq, t, queued)
                    if not busy[p]:
                        busy[p] = True
                        heapq.heappush(heap, (t, KICK, p))
            ready[i] = 0
            if np.isnan(t_adm[i]):
                t_adm[i] = t
                hit_tok[i] = h
            nrun[r] += 1
        while kv_used[r] + kv_cached[r] + b * grow > cap:  # growth: evict cache, then preempt the newest
            if ehead[r] >= 0:
                _evict(r, kv_cached, e_tok, e_sess, sess_entry, e_prev, e_next, ehead, etail)
                continue
            m = nrun[r] - 1
            while s_remote[r, m]:  # a prompt being prefilled elsewhere keeps its slot
                m -= 1
            j = run[r, m]
            gen[j] = s_gen[r, m]
            kv_used[r] -= s_kv[r, m]
            if s_rem[r, m] == 0.0:
                b -= 1
                if preempt == SWAP:
                    ready[j] = HOST
                    io += s_kv[r, m]
            _remove_slot(r, m, nrun, run, s_gen, s_kv, s_rem, s_out, s_remote, s_dec, s_chunk)
            n_pre[j] += 1
            qnext[j] = qhead[r]
            qhead[r] = j
            if qtail[r] < 0:
                qtail[r] = j
            nwait[r] += 1
            wait_tok[r] += prompt[j]
            queued += 1
            _record(qt, qd, nq, t, queued)
        ndec[r] = b
        left = budget[T] - b
        p = 0.0
        ctx = 0.0
        for k in range(nrun[r]):
            if s_rem[r, k] == 0.0:
                ctx += s_kv[r, k]
                s_dec[r, k] = True
                s_kv[r, k] += grow
            elif left > 0 and not s_remote[r, k]:
                c = min(s_rem[r, k], left)
                s_chunk[r, k] = c
                left -= c
                p += c
        kv_used[r] += b * grow
        if b == 0 and p == 0.0:
            continue  # idle until something arrives
        dt = prefill_s_per_token[T] * p + swap_s_per_token[T] * io
        if b > 0:
            dt += coef_a[T, b] + coef_b[T, b] * ctx / b
        busy[r] = True
        steps[r] += 1
        busy_s[r] += dt
        kv_int[r] += kv_used[r] * dt
        cache_int[r] += kv_cached[r] * dt
        if kv_used[r] > kv_peak[r]:
            kv_peak[r] = kv_used[r]
        heapq.heappush(heap, (t + dt, STEP, r))

    while snaps < 2:  # the run ended inside the window
        _snapshot(gen_at[snaps], gen, run, nrun, s_gen)
        snaps += 1
    _snapshot(gen, gen, run, nrun, s_gen)  # tokens out at the end
    m = nq[0]
    return (t_arr, t_adm, t_first, t_done, gen, gen_at[0], gen_at[1], rep, n_pre, hit_tok, rejected, qt[:m].copy(), qd[:m].copy(),
            kv_int, cache_int, kv_peak, busy_s, steps, t_end)
