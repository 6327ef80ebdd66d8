"""var_attribution on real models: batched bases against captum and autograd, hygiene, kinds, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fischer_sc_saliency import (
    ClassCompetition,
    competitor_maps,
    grad_cam,
    gradient,
    input_x_gradient,
    integrated_gradients,
    var_attribution,
)


def per_class_gradient(model, x, cls):
    """One autograd call per class: the slow reference of the batched pass."""
    xi = x.clone().requires_grad_(True)
    model(xi)[:, cls].sum().backward()
    return xi.grad


def test_batched_pass_equals_one_pass_per_class(tiny_cnn, images):
    sets = np.array([[0, 2, 4], [1, 2, 3], [4, 0, 1]])
    for p in tiny_cnn.parameters():
        p.requires_grad_(False)
    maps = competitor_maps(tiny_cnn, images, sets, base="gradient")
    for j in range(3):
        for i in range(3):
            want = per_class_gradient(tiny_cnn, images[i : i + 1], int(sets[i, j]))[0]
            torch.testing.assert_close(maps[i, j], want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "method", ["gausslegendre", "riemann_left", "riemann_middle", "riemann_right", "riemann_trapezoid"]
)
def test_integrated_gradients_equal_captum(tiny_cnn, images, method):
    captum = pytest.importorskip("captum.attr")
    targets = torch.tensor([0, 3, 4])
    baseline = torch.full_like(images, 0.2)
    ours = integrated_gradients(tiny_cnn, images, targets, baseline=baseline, n_steps=12, method=method, batch_size=7)
    theirs = captum.IntegratedGradients(tiny_cnn).attribute(
        images, baselines=baseline, target=targets, n_steps=12, method=method
    )
    if method == "riemann_trapezoid":
        # captum's trapezoid steps by 1/n (weights sum to (n-1)/n); ours is the textbook rule, steps 1/(n-1)
        theirs = theirs * 12 / 11
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-6)


def test_gradient_bases_and_grad_cam_equal_captum(tiny_cnn, images):
    captum = pytest.importorskip("captum.attr")
    targets = torch.tensor([1, 1, 2])
    xg = images.clone().requires_grad_(True)  # captum warns when it has to switch gradients on itself
    torch.testing.assert_close(
        gradient(tiny_cnn, images, targets), captum.Saliency(tiny_cnn).attribute(xg, target=targets, abs=False)
    )
    torch.testing.assert_close(
        input_x_gradient(tiny_cnn, images, targets), captum.InputXGradient(tiny_cnn).attribute(xg, target=targets)
    )
    cam = captum.LayerGradCam(tiny_cnn, tiny_cnn.conv2).attribute(xg, target=targets, relu_attributions=True)
    ours = grad_cam(tiny_cnn, images, targets, layer=tiny_cnn.conv2)
    torch.testing.assert_close(ours, cam.expand_as(images))  # conv2 keeps the 8x8 input size


def test_captum_adapter_in_var_equals_native(tiny_cnn, images):
    pytest.importorskip("captum")
    kw = {"target": [0, 1, 2], "classes": [0, 1, 2]}
    ours = var_attribution(tiny_cnn, images, base="input_x_gradient", **kw)
    theirs = var_attribution(tiny_cnn, images, base="captum:InputXGradient", **kw)
    torch.testing.assert_close(ours, theirs)


def test_zennit_adapter_gradient_equals_native(tiny_cnn, images):
    pytest.importorskip("zennit")
    kw = {"target": 1, "classes": [1, 3]}
    torch.testing.assert_close(
        var_attribution(tiny_cnn, images, base="zennit:Gradient", **kw),
        var_attribution(tiny_cnn, images, base="gradient", **kw),
    )


def test_callable_base_and_details(tiny_cnn, images):
    def edges(x, targets):  # model-independent: every class gets a map scaled by its index + 1
        return x * (targets.float() + 1).view(-1, 1, 1, 1)

    out, d = var_attribution(tiny_cnn, images, 2, classes=[0, 2], base=edges, return_details=True)
    assert d.classes.tolist() == [[0, 2]] * 3 and d.target_index.tolist() == [1, 1, 1]
    torch.testing.assert_close(d.base_maps[:, 1], 3 * images)
    scale = 3 * images.flatten(1).amax(1).view(-1, 1, 1, 1)  # joint_max: one divisor for both maps
    m = torch.softmax(10 * torch.stack([images, 3 * images]) / scale, dim=0)[1]
    torch.testing.assert_close(out, 3 * images * m * (m - 0.5 > 0.1))  # defaults: T = 10, tau = 0.1
    assert torch.equal(d.gate, out != 0)


def test_model_is_left_exactly_as_it_was(tiny_cnn, images):
    model = tiny_cnn
    model.train()
    model.bn.eval()  # a mixed-mode model
    model.conv1.weight.requires_grad_(False)
    model.fc.weight.grad = torch.ones_like(model.fc.weight)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    flags = [p.requires_grad for p in model.parameters()]
    x = images.clone().requires_grad_(True)
    for base in ("integrated_gradients", "grad_cam"):
        var_attribution(model, x, 0, classes="auto", base=base, base_kwargs={"n_steps": 4} if base[0] == "i" else None)
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == flags
    assert torch.equal(model.fc.weight.grad, torch.ones_like(model.fc.weight))
    assert all(p.grad is None for n, p in model.named_parameters() if n != "fc.weight")
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k  # BatchNorm running statistics included
    assert x.grad is None and torch.equal(x.detach(), images)


def test_kinds_and_shapes(tiny_cnn, images):
    var = ClassCompetition(base="gradient", classes=[0, 1, 2])
    out_t = var(tiny_cnn, images.double(), target=torch.tensor([0, 1, 2]))
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float64 and out_t.shape == images.shape
    out_a = var(tiny_cnn, images.numpy(), target=np.array([0, 1, 2]))
    assert isinstance(out_a, np.ndarray) and out_a.dtype == np.float32 and out_a.shape == images.shape
    np.testing.assert_allclose(out_a, out_t.numpy(), rtol=1e-5, atol=1e-7)
    cam = var_attribution(tiny_cnn, images, 1, classes=[1, 4], base="grad_cam")
    assert cam.shape == images.shape and torch.equal(cam[:, 0], cam[:, 2])


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"classes": [3]}, ValueError, "K >= 2"),
        ({"target": 4, "classes": [0, 1, 2]}, ValueError, "not in classes"),
        ({"tau": 0.7}, ValueError, "tau"),  # auto: K = 3, so tau must be < 2/3
        ({"temperature": -1.0}, ValueError, "temperature"),
        ({"base": "lrp"}, ValueError, "base='lrp' is unknown"),
        ({"base": lambda x, t: x[:, :1, :4]}, ValueError, "shape"),
        ({"target": 7}, ValueError, "outside"),
        ({"base": "grad_cam", "base_kwargs": {"layer": "conv2"}}, TypeError, "layer"),
    ],
)
def test_clear_errors(tiny_cnn, images, kwargs, err, match):
    with pytest.raises(err, match=match):
        var_attribution(tiny_cnn, images, **({"target": 0} | kwargs))


def test_nan_input_is_rejected(tiny_cnn, images):
    x = images.clone()
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        var_attribution(tiny_cnn, x, 0)
    with pytest.raises(ValueError, match="batch axis"):
        var_attribution(tiny_cnn, images[0, 0, 0], 0)
