"""Output models of the everyday container operations (top, kill, rename, update) and the signal table."""

from pydantic import Field

from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.output import Model

_SIGNALS = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
    "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17,
    "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25,
    "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31, "RTMIN": 34, "RTMAX": 64,
}  # fmt: skip


def signal_name(value: str | int) -> str:
    """'HUP', 'SIGHUP', 'sighup', 1, '1', 'RTMIN+3' → what the engine takes ('SIGHUP', or a number 1-64)."""
    text = str(value).strip().upper()
    if text.isdigit():
        if not 1 <= int(text) <= 64:
            raise ValidationError(f"Invalid signal {value!r}: numbers go from 1 to 64.")
        return text
    name = text.removeprefix("SIG")
    base, sep, delta = name.partition("+") if "+" in name else name.partition("-")
    if base in _SIGNALS and (not sep or (base in ("RTMIN", "RTMAX") and delta.isdigit())):
        number = _SIGNALS[base] + (int(delta) if sep == "+" else -int(delta) if sep else 0)
        if 1 <= number <= 64:
            return str(number) if sep else f"SIG{base}"
    raise ValidationError(f"Invalid signal {value!r}: use a name like SIGHUP, HUP, TERM, KILL, or a number 1-64.")


class Process(Model):
    pid: str
    user: str | None = None
    cpu: str | None = Field(None, description="%CPU, when the engine's ps gives it.")
    mem: str | None = Field(None, description="%MEM, when the engine's ps gives it.")
    command: str


class ProcessList(Model):
    container: str
    processes: list[Process]
    total: int
    truncated: bool


class RenamedContainer(Model):
    id: str
    old_name: str
    name: str


class UpdatedContainer(Model):
    id: str
    name: str
    mem_limit: int = Field(description="Memory limit in bytes (0: none).")
    cpus: float = Field(description="CPU limit in cores (0: none).")
    restart_policy: str
    pids_limit: int | None = Field(None, description="Most processes (null: no limit).")
    warnings: list[str] = Field(default_factory=list)
