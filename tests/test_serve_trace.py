"""Traces replay as written; bad rows are named by file, line and column; generated traffic has the asked shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.serve_support import kind
from twin.errors import SpecError
from twin.serve.run import Fleet, Pool, simulate
from twin.serve.trace import load_trace
from twin.serve.traffic import Lengths, agentic, open_loop, replay
from twin.sim.rng import named_streams

AZURE = """TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,4808,10
2023-11-16 18:15:47.1805900,3180,8
2023-11-16 18:15:49.4305900,110,27
"""


def test_an_azure_trace_replays_its_arrivals_and_lengths(tmp_path):
    path = tmp_path / "azure.csv"
    path.write_text(AZURE)
    traffic = replay(load_trace(path))
    # 18:15:46.68059 is t = 0; +0.5 s; +2.75 s.
    np.testing.assert_allclose(traffic.arrival_s, [0.0, 0.5, 2.75], atol=1e-9)
    np.testing.assert_array_equal(traffic.input_tokens, [4808, 3180, 110])
    np.testing.assert_array_equal(traffic.output_tokens, [10, 8, 27])
    run = simulate(Fleet((Pool(kind(prefill_s_per_token=1e-6), 2),)), traffic, drain_s=np.inf)
    np.testing.assert_allclose(run.arrival, [0.0, 0.5, 2.75], atol=1e-9)
    assert np.all(np.isfinite(run.finished))


def test_a_generic_parquet_trace_with_sessions_shares_prefixes(tmp_path):
    df = pd.DataFrame({"arrival_s": [1.0, 2.0, 9.0, 9.5], "input_tokens": [100, 50, 100 + 20 + 30, 7], "output_tokens": [20, 5, 4, 3],
                       "session_id": ["a", "b", "a", ""]})
    df.to_parquet(tmp_path / "t.parquet")
    traffic = replay(load_trace(tmp_path / "t.parquet"))
    np.testing.assert_allclose(traffic.arrival_s, [0.0, 1.0, 8.0, 8.5])  # relative to the first request
    np.testing.assert_array_equal(traffic.session, [0, 1, 0, -1])
    # Session a's second turn starts with its first turn's 100 + 20 tokens of context.
    np.testing.assert_array_equal(traffic.prefix, [0, 0, 120, 0])
    # A rate rescales time: 3 gaps over 8.5 s is 0.353 req/s; at 3 req/s they span 1 s.
    assert replay(load_trace(tmp_path / "t.parquet"), rate=3.0).arrival_s[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(("text", "where"), [
    ("arrival_s,input_tokens,output_tokens\n0,10,5\n1,ten,5\n", ":3:1: input_tokens: 'ten' is not a whole number"),
    ("arrival_s,input_tokens,output_tokens\n0,10,5\n1,10,0\n", ":3:1: output_tokens: '0' is not a whole number"),
    ("arrival_s,input_tokens,output_tokens\n0,0,5\n", ":2:1: input_tokens: '0' is not a whole number of tokens from 1"),
    ("arrival_s,input_tokens,output_tokens\n0,10,5\n-1,10,4\n", ":3:1: arrival_s: '-1' is not a finite number"),
    ("arrival_s,input_tokens,output_tokens\n2,10,5\n1,10,4\n", ":3:1: arrival_s: arrivals must be in time order"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,10,5\n", ":2:1: TIMESTAMP: 'yesterday' is not a date-time"),
    ("when,input_tokens\n0,10\n", ":1:1: missing column(s) arrival_s, output_tokens"),
])
def test_bad_rows_are_named_by_file_line_and_column(tmp_path, text, where):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(SpecError) as exc:
        load_trace(path)
    assert f"{path}{where}" in str(exc.value)


def test_generated_traffic_has_the_asked_rate_and_lengths():
    st = named_streams(4, ["arrivals", "inputs", "outputs"])
    t = open_loop("poisson", st, 50.0, None, 400.0, Lengths("lognormal", 300, 0.8), Lengths("fixed", 128))
    # 50/s over 400 s: 20,000 expected, standard deviation sqrt(20,000) = 141.
    assert abs(t.size - 20_000) <= 3 * 141
    assert t.arrival_s.max() < 400.0
    # Lognormal mean 300 (rounded to whole tokens): standard error 300 sqrt(e^0.64 - 1) / sqrt(n) ~ 1.9.
    assert abs(t.input_tokens.mean() - 300) <= 3 * 300 * np.sqrt(np.exp(0.64) - 1) / np.sqrt(t.size) + 0.5
    assert np.all(t.output_tokens == 128)


def test_agentic_turns_grow_their_context_and_repeat_it_as_a_prefix():
    st = named_streams(0, ["arrivals", "inputs", "outputs", "tools", "sessions"])
    t = agentic(st, 10.0, 40, None, Lengths("fixed", 1000), Lengths("fixed", 100), 4, 1.0, Lengths("fixed", 50))
    assert t.size == 40  # 10 sessions of 4 turns
    # Turn k's prompt: 1000 + k (100 + 50); its prefix is the previous prompt plus its output.
    np.testing.assert_array_equal(t.input_tokens[:4], [1000, 1150, 1300, 1450])
    np.testing.assert_array_equal(t.prefix[:4], [0, 1100, 1250, 1400])
    np.testing.assert_array_equal(t.child[:4], [1, 2, 3, -1])
    assert np.isnan(t.arrival_s[1:4]).all()  # later turns are sent when the previous one is done
