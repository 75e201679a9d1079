import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(
    0, str(Path(__file__).parent)
)  # lets test modules share reference helpers


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of tiny tensors (opt in with ``pytest.mark.usefixtures``): one torch
    thread is fastest there, and on a busy 2-core machine several threads per process
    oversubscribe the cores (about 10x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
