# Exercices de Niklaus Wirth - résolus en Zürich
import torch


def make_leaf(values):
    return torch.tensor(values, dtype=torch.float32, requires_grad=True)
