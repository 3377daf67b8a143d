# Ada Lovelace -- Homework 3, exercise 3
import torch


def scale_untracked(x, factor):
    return (x * factor).detach()


def detached(x):
    return x.detach()


def frozen_input_loss(x, w):
    with torch.no_grad():
        frozen = x.clone()
    return torch.sum(frozen * w)
