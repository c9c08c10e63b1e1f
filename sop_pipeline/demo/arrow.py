"""Arrow columns for the extracts: zero-padded codes, string lookups, and tables with exactly
the contract's columns and types."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sop_pipeline.ingest.contract import BY_NAME

_ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(),
                "date": pa.date32(), "timestamp": pa.timestamp("s")}


def contract_table(name: str, data: dict[str, object]) -> pa.Table:
    """An Arrow table with exactly the contract's columns, typed by the contract's kinds."""
    entity = BY_NAME[name]
    arrays = []
    for column in entity.columns:
        values = data[column.name]
        array = values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
        arrays.append(array.cast(_ARROW_TYPES[column.kind]))
    return pa.Table.from_arrays(arrays, names=[c.name for c in entity.columns])


def codes(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded codes like SO-000123, widened when the numbers need more digits."""
    numbers = np.asarray(numbers, dtype=np.int64)
    width = max(width, len(str(int(numbers.max())))) if len(numbers) else width
    padded = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def take(values: np.ndarray, index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow string array, without building a large numpy string array."""
    return pa.array(values).take(pa.array(np.asarray(index, dtype=np.int64)))

