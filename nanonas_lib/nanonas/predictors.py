"""Performance predictors: learn accuracy from the architectures a search has already evaluated, to rank the rest.

Three models, each `fit(X, y)` then `predict(X)` (and `samples(X)` for an ensemble's spread), on features made by
`features(dnas, n_ops, proxy_rows)`: the DNA one-hot (one column per position and op), optionally plus zero-cost
proxies (nanonas.proxies). White et al., 2021, "How Powerful are Performance Predictors in NAS?" compared 31 of
them; BANANAS (White et al., 2021, AAAI) is the ensemble of small MLPs with an acquisition function on top.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F


# 1. Features: what a predictor sees of an architecture.
def one_hot(dnas, n_ops: int) -> np.ndarray:
    """(N, positions * n_ops): a 1 in column position * n_ops + op."""
    dnas = np.asarray(dnas, dtype=int)
    X = np.zeros((len(dnas), dnas.shape[1] * n_ops))
    for position in range(dnas.shape[1]):
        X[np.arange(len(dnas)), position * n_ops + dnas[:, position]] = 1.0
    return X


def proxy_columns(rows, names) -> np.ndarray:
    """(N, len(names) + 1): each proxy as sign(v) * log(1 + |v|) (they span orders of magnitude), plus a 0/1 column
    'the output depends on the input' (jacob_cov is -inf when it does not); a non-finite value becomes 0."""
    V = np.array([[r[n] for n in names] for r in rows], dtype=float).reshape(len(rows), len(names))
    live = np.array([[float(r.get("jacob_cov", 0.0) > -math.inf)] for r in rows])
    V = np.where(np.isfinite(V), np.sign(V) * np.log1p(np.abs(V)), 0.0)
    return np.hstack([V, live])


def features(dnas, n_ops: int, proxy_rows=None, proxy_names=()) -> np.ndarray:
    """One-hot DNA, with proxy columns appended when `proxy_names` is not empty."""
    X = one_hot(dnas, n_ops)
    return np.hstack([X, proxy_columns(proxy_rows, proxy_names)]) if proxy_names else X


def standardise(X_train, *others):
    """Zero mean, unit variance, with the training rows' statistics (constant columns stay 0)."""
    mean, std = X_train.mean(0), X_train.std(0)
    std[std == 0] = 1.0
    return [(X - mean) / std for X in (X_train, *others)]


# 2. The predictors.
class Ridge:
    """Linear regression with an L2 penalty (closed form): each op at each position adds its own amount."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X, y):
        self.X_train, self.y_mean = X, float(np.mean(y))
        self.quantum = 1e-9 * (float(np.ptp(y)) or 1.0)  # predictions are rounded to this; see predict
        Xs = standardise(X)[0]
        A = Xs.T @ Xs + self.alpha * np.eye(X.shape[1])
        self.w = np.linalg.solve(A, Xs.T @ (np.asarray(y) - self.y_mean))
        return self

    def predict(self, X):
        """Rounded to a billionth of the targets' range. Two DNAs often predict the same in exact arithmetic (they
        differ only in ops whose weights are equal, or 0 for an op never trained), but the solve and the sums come out
        a few ulps apart, in an order that depends on which kernel the CPU's BLAS picks: a search that sorts by the
        prediction would break those ties differently on another machine. Rounded, they tie exactly (the rounding
        error is ~1e-16 relative, the quantum 1e-9), and a stable sort keeps them in the order given."""
        p = standardise(self.X_train, X)[1] @ self.w + self.y_mean
        return np.round(p / self.quantum) * self.quantum


class MLPEnsemble:
    """BANANAS's predictor (White et al., 2021): `members` small MLPs, each from its own random initialisation,
    trained on the same data; their mean is the prediction, their spread the uncertainty.
    All members train at once as one batched network: weights (members, in, hidden)."""

    def __init__(self, members: int = 5, hidden: int = 32, steps: int = 100, lr: float = 0.02, seed: int = 0):
        self.members, self.hidden, self.steps, self.lr, self.seed = members, hidden, steps, lr, seed

    def _forward(self, X):  # (N, in) -> (members, N)
        h = F.relu(torch.einsum("ni,mih->mnh", X, self.W1) + self.b1)
        h = F.relu(torch.einsum("mnh,mhk->mnk", h, self.W2) + self.b2)
        return torch.einsum("mnk,mk->mn", h, self.W3) + self.b3

    def fit(self, X, y):
        self.X_train = X
        g = torch.Generator().manual_seed(self.seed)
        init = lambda *shape: torch.randn(*shape, generator=g) / math.sqrt(shape[-2] if len(shape) > 2 else 1)
        m, d, h = self.members, X.shape[1], self.hidden
        self.W1, self.W2, self.W3 = init(m, d, h), init(m, h, h), torch.randn(m, h, generator=g) / math.sqrt(h)
        self.b1, self.b2, self.b3 = torch.zeros(m, 1, h), torch.zeros(m, 1, h), torch.zeros(m, 1)
        params = [self.W1, self.W2, self.W3, self.b1, self.b2, self.b3]
        for p in params:
            p.requires_grad_(True)
        self.y_mean, self.y_std = float(np.mean(y)), float(np.std(y)) or 1.0
        Xt = torch.tensor(standardise(X)[0], dtype=torch.float32)
        yt = torch.tensor((np.asarray(y) - self.y_mean) / self.y_std, dtype=torch.float32)
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=1e-4)
        for _ in range(self.steps):  # full batch: a search has at most a few hundred architectures
            opt.zero_grad()
            F.mse_loss(self._forward(Xt), yt.expand(m, -1)).backward()
            opt.step()
        return self

    @torch.no_grad()
    def samples(self, X) -> np.ndarray:
        """(members, N): every member's prediction."""
        Xt = torch.tensor(standardise(self.X_train, X)[1], dtype=torch.float32)
        return self._forward(Xt).numpy() * self.y_std + self.y_mean

    def predict(self, X):
        return self.samples(X).mean(0)


class GradientBoosting:
    """scikit-learn's gradient-boosted regression trees: captures interactions ("any zero kills the chain")."""

    def __init__(self, n_estimators: int = 100, max_depth: int = 3, seed: int = 0):
        from sklearn.ensemble import GradientBoostingRegressor

        self.model = GradientBoostingRegressor(n_estimators=n_estimators, max_depth=max_depth, random_state=seed)

    def fit(self, X, y):
        self.model.fit(X, y)
        return self

    def predict(self, X):
        return self.model.predict(X)


PREDICTORS = {"ridge": Ridge, "mlp_ensemble": MLPEnsemble, "gbm": GradientBoosting}


def make(name: str, seed: int = 0):
    """A fresh predictor by name."""
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; choose one of: {', '.join(PREDICTORS)}")
    return PREDICTORS[name]() if name == "ridge" else PREDICTORS[name](seed=seed)


def kendall_tau(predicted, true) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(predicted, true).statistic)


# 3. What a search uses: features of DNAs (with a proxy's column when it has one), and a fitted predictor.
def search_features(dnas, n_ops: int, proxy=None) -> np.ndarray:
    """One-hot DNAs, plus the proxy's column (nanonas.proxies.Proxy, memoised, its cost counted) when given."""
    rows = [{proxy.name: proxy(d)} for d in dnas] if proxy is not None else None
    return features(dnas, n_ops, rows, (proxy.name,) if proxy is not None else ())


def predictions(name: str, train_dnas, train_scores, candidates, n_ops: int, proxy=None, seed: int = 0):
    """(samples, len(candidates)): a predictor fitted on the evaluated DNAs, applied to the candidates; one row per
    ensemble member (a single row for the other predictors)."""
    model = make(name, seed).fit(search_features(train_dnas, n_ops, proxy), np.asarray(train_scores))
    X = search_features(candidates, n_ops, proxy)
    return model.samples(X) if hasattr(model, "samples") else model.predict(X)[None]
