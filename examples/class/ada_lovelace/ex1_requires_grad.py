# Ada Lovelace -- Homework 3, exercise 1
import torch


def make_leaf(values):
    t = torch.as_tensor(values, dtype=torch.float32).clone()
    t.requires_grad_()  # in-place flag: still a leaf
    return t


def gradient(f, x):
    out = f(x)
    out.backward()
    return x.grad
