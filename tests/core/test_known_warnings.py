"""Known harmless warnings are filtered one message at a time; anything else still shows."""
import logging
import warnings

from helpers.core.known_warnings import KNOWN, quiet_known_warnings


def test_the_known_bitsandbytes_message_is_dropped_and_others_kept(caplog):
    quiet_known_warnings()
    logger = logging.getLogger("bitsandbytes.backends.cpu.ops")
    with caplog.at_level(logging.WARNING, logger="bitsandbytes.backends.cpu.ops"):
        logger.warning("Failed to load CPU gemm_4bit_forward from kernels-community: %s. Please ...", "x")
        logger.warning("something else went wrong")
    assert [r.getMessage() for r in caplog.records] == ["something else went wrong"]


def test_only_the_known_future_warning_is_silenced():
    quiet_known_warnings()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        quiet_known_warnings()  # the catch_warnings context starts from a copy; install again inside it
        warnings.warn("`is_gradient_checkpointing` is deprecated and will be removed in v6.", FutureWarning)
        warnings.warn("another deprecation", FutureWarning)
    assert [str(w.message) for w in seen] == ["another deprecation"]


def test_every_known_warning_says_why():
    assert all(k.reason and k.starts for k in KNOWN)
    assert quiet_known_warnings() == KNOWN


def test_the_dequantization_notice_of_cpu_generation_is_explained_and_dropped():
    """Seen once per notebook in a cpu-demo `make run` (00, 02, 03, 04, 06, 08) before it was listed."""
    from transformers.utils import logging as hf_logging

    quiet_known_warnings()
    logger = hf_logging.get_logger("transformers.integrations.bitsandbytes")
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        logger.warning("The modules are dequantized in torch.float32 and casted to torch.float32.")
        logger.warning("The modules could not be dequantized")
    finally:
        logger.removeHandler(handler)
    assert seen == ["The modules could not be dequantized"]
