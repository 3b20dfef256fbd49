"""The host guide's seat table: from the memory estimator, and the README shows it."""
from pathlib import Path

from helpers.model.memory import TrainSetup, estimate_memory
from helpers.model.turns import seats_per_gpu
from helpers.workshop.seats import seat_table, seat_table_markdown

REPO = Path(__file__).resolve().parents[2]


def test_seat_table_comes_from_the_estimator_and_the_guide_shows_it():
    table = seat_table()
    row = table[(table.model == "7B") & (table.method == "qlora")].iloc[0]
    need = estimate_memory("7B", TrainSetup(method="qlora", optimizer="paged_adamw_8bit", batch_size=4, seq_len=512,
                                            gradient_checkpointing=True)).total_gb
    assert row.need_gb == round(need, 2)
    assert row["80 GB"] == seats_per_gpu(80, need) and row["24 GB"] == seats_per_gpu(24, need)
    assert (table[table.method == "full"]["80 GB"] <= table[table.method == "qlora"]["80 GB"].values).all()
    guide = (REPO / "README.md").read_text()
    assert seat_table_markdown(table) in guide, "regenerate the README host guide table: print(seat_table_markdown(seat_table()))"
