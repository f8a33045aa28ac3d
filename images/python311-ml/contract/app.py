"""A stand-in ML service: torch from the base, its own dependency from the synced lock."""

import sys

import six
import torch

weights = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
print(
    f"ml service ok: torch {torch.__version__}, cuda {torch.cuda.is_available()}, "
    f"sum {weights.sum().item()}, six {six.__version__}, {sys.prefix}"
)
