"""Each zero-cost proxy against a value computed by hand on a network small enough to do it on paper."""

import math

import pytest
import torch
from torch import nn

from nanonas import proxies
from nanonas.data import load_dataset


def linear(weight) -> nn.Linear:
    layer = nn.Linear(len(weight[0]), len(weight), bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=torch.float32))
    return layer


# W = identity, x = [1, 2], label 0: logits z = [1, 2], softmax p = [1, e] / (1 + e), dL/dz = p - [1, 0] = [-s, s]
# with s = e / (1 + e); dL/dW = outer(dL/dz, x) = [[-s, -2s], [s, 2s]].
S = math.e / (1 + math.e)
X, Y = torch.tensor([[1.0, 2.0]]), torch.tensor([0])


def test_grad_norm_is_the_norm_of_the_loss_gradient():
    assert proxies.grad_norm(linear([[1, 0], [0, 1]]), X, Y) == pytest.approx(S * math.sqrt(1 + 4 + 1 + 4), rel=1e-5)


def test_snip_is_the_sum_of_weight_times_gradient():
    # |W * dL/dW| = |1 * -s| + 0 + 0 + |1 * 2s|
    assert proxies.snip(linear([[1, 0], [0, 1]]), X, Y) == pytest.approx(3 * S, rel=1e-5)


def test_synflow_of_a_linear_chain_is_depth_times_the_path_sum():
    # |W1| = [[1, 2], [3, 4]], |W2| = [[1, 2]]; input ones: h = [3, 7], R = 3 + 14 = 17; each layer's
    # sum of w * dR/dw equals R, so two layers give 2 * 17.
    model = nn.Sequential(linear([[1, -2], [3, 4]]), linear([[-1, 2]]))
    assert proxies.synflow(model, torch.zeros(5, 2), None) == pytest.approx(34.0)


# A ReLU alone: its Jacobian rows and its binary codes are both 1[x > 0]: [[1, 0, 1], [1, 1, 0]].
CODES_X = torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, -1.0]])


def test_jacob_cov_from_the_correlation_of_two_jacobians():
    # rows centred: [1, -2, 1] / 3 and [1, 1, -2] / 3 -> correlation -1/2 -> eigenvalues 1.5 and 0.5
    k = 1e-5
    expected = -sum(math.log(v + k) + 1 / (v + k) for v in (1.5, 0.5))
    assert proxies.jacob_cov(nn.Sequential(nn.ReLU()), CODES_X, None) == pytest.approx(expected, rel=1e-6)


def test_naswot_is_the_log_determinant_of_the_agreement_kernel():
    # 3 units; the two codes differ on 2 of them: K = [[3, 1], [1, 3]], det 8
    assert proxies.naswot(nn.Sequential(nn.ReLU()), CODES_X, None) == pytest.approx(math.log(8))


def test_params_and_macs():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    assert proxies.params(model, X, Y) == 2 * 3 + 3 + 3 * 1 + 1
    assert proxies.macs(model, X, Y) == 2 * 3 + 3 * 1


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_a_zero_cuts_the_chain_and_jacob_cov_sees_it(digits):
    dead, live = [0, 4, 1, 1], [0, 1, 2, 3]
    assert not proxies.is_live(dead, digits, channels=4) and proxies.is_live(live, digits, channels=4)
    assert proxies.score(dead, digits, ("jacob_cov",), channels=4)["jacob_cov"] == -math.inf
    assert proxies.score(live, digits, ("jacob_cov",), channels=4)["jacob_cov"] > -math.inf


def test_scores_are_seeded_and_timed(digits):
    a = proxies.score([0, 2, 3, 1], digits, ("snip", "naswot"), channels=4)
    b = proxies.score([0, 2, 3, 1], digits, ("snip", "naswot"), channels=4)
    assert a["snip"] == b["snip"] and a["naswot"] == b["naswot"] and a["snip_ms"] > 0
    with pytest.raises(ValueError, match="choose from"):
        proxies.score([0, 2, 3, 1], digits, ("flops",))


def test_a_proxy_counts_its_cost_once_per_dna(digits):
    proxy = proxies.Proxy("naswot", digits, channels=4)
    proxy([0, 1, 2, 3])
    spent = proxy.seconds
    assert spent > 0 and proxy([0, 1, 2, 3]) == proxy.values[(0, 1, 2, 3)] and proxy.seconds == spent


def test_the_shipped_table_has_every_architecture_and_agrees_with_a_fresh_score(digits):
    table = proxies.load("digits")
    assert len(table) == 5**4 and sum(r["live"] for r in table.values()) == 4**4  # live = no 'zero' anywhere
    fresh = proxies.score([1, 0, 2, 1], digits, ("naswot", "synflow"))
    assert fresh["naswot"] == pytest.approx(table[(1, 0, 2, 1)]["naswot"], rel=1e-4)
    assert fresh["synflow"] == pytest.approx(table[(1, 0, 2, 1)]["synflow"], rel=1e-4)


def test_rank_correlations_treat_minus_infinity_as_last():
    r = proxies.rank_correlations([-math.inf, 1.0, 2.0, 3.0], [0.1, 0.5, 0.6, 0.9])
    assert r["spearman"] == pytest.approx(1.0) and r["kendall"] == pytest.approx(1.0)


def test_the_lesson_summary_counts_the_dead_and_draws_them_apart():
    from nas_insights.proxies import facts, proxy_scatter

    assert facts()["dead_share"] == pytest.approx(1 - 4**4 / 5**4)  # a 'zero' anywhere: 369 of 625
    assert [trace.name for trace in proxy_scatter("naswot").data] == ["live", "dead (a zero cuts the chain)"]
