# Ada Lovelace -- Homework 3, exercise 2
import torch


def accumulate(f, x, times):
    n = 0
    while n < times:
        f(x).backward()
        n += 1
    return x.grad


def zero_grad_(x):
    g = x.grad
    if g is None:
        return None
    g.fill_(0)  # same tensor object, now all zeros


def descend(f, x, lr, steps):
    for _ in range(steps):
        zero_grad_(x)
        loss = f(x)
        loss.backward()
        x.data.sub_(lr * x.grad)  # update outside the graph
    return x
