"""Type stubs of the `regain` module (bindings of the regain Rust library).

Every dict answer is the JSON object that the `regain` CLI prints with `--format json`.
"""

from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Tuple, Union, overload

__version__: str

JSON = Dict[str, Any]
Profile = Mapping[str, Any]

class Error(ValueError):
    """Every error of the regain package."""

class PolicyError(Error):
    """A policy that does not parse or check."""

    diagnostics: List[JSON]
    """Every diagnostic (errors and warnings): code, severity, message, file, line, col,
    end_line, end_col, label, help, labels."""

class ProfileError(Error):
    """A profile that does not fit the policy's facts."""

    fact: Optional[str]
    """The fact (or key) of the first problem, when there is one."""
    problems: List[JSON]
    """Every problem: {"fact": str | None, "message": str}."""
    index: Optional[int]
    """The position of the profile in `Engine.evaluate_many`, else None."""

class ModelError(Error):
    """A simulation model that does not fit the policy."""

    location: str
    """Where in the model (a key path), or "" for the whole document."""

class Policy:
    """A parsed and checked policy. Raises PolicyError."""

    def __init__(self, source: str, name: str = "<policy>") -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def warnings(self) -> List[JSON]: ...
    @property
    def facts(self) -> List[str]: ...
    @property
    def path_names(self) -> List[str]: ...

class Path:
    """One offered path with the methods the person can use at each step."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> Optional[str]: ...
    @property
    def steps(self) -> List[List[str]]: ...
    @property
    def grants(self) -> str: ...
    @property
    def wait_s(self) -> int: ...
    @property
    def notify(self) -> List[str]: ...
    def to_dict(self) -> JSON: ...

class Decision:
    """The decision for one profile (immutable, hashable)."""

    @property
    def kind(self) -> Literal["allow", "deny", "lockout"]: ...
    @property
    def paths(self) -> List[Path]: ...
    @property
    def denied_by(self) -> List[str]: ...
    def to_dict(self) -> JSON:
        """Exactly the object `regain eval --format json` prints."""

class Engine:
    """A compiled policy. Immutable and thread-safe."""

    def __init__(self, policy: Union[Policy, str]) -> None: ...
    @property
    def policy(self) -> Policy: ...
    def evaluate(self, profile: Profile) -> Decision:
        """Raises ProfileError."""
    @overload
    def evaluate_many(
        self, profiles: Iterable[Profile], errors: Literal["raise"] = "raise"
    ) -> List[Decision]: ...
    @overload
    def evaluate_many(
        self, profiles: Iterable[Profile], errors: Literal["return"]
    ) -> List[Union[Decision, JSON]]: ...
    def explain(self, profile: Profile) -> JSON:
        """{"denies": [...], "paths": [...]} as `regain eval --explain --format json`."""

def check(source: str, name: str = "<policy>") -> List[JSON]:
    """Every diagnostic of a policy (errors and warnings) as dicts."""

def analyze(source: Union[str, Policy]) -> JSON:
    """As `regain analyze --format json`."""

def diff(old: Union[str, Policy], new: Union[str, Policy]) -> JSON:
    """As `regain diff OLD NEW --format json`."""

def simulate(
    source: Union[str, Policy],
    model: Union[str, Mapping[str, Any]],
    trials: int = 1_000_000,
    seed: int = 1,
    exact: bool = False,
    shard: Optional[Tuple[int, int]] = None,
    threads: Optional[int] = None,
) -> JSON:
    """As `regain simulate --format json`; `model` is YAML text or a dict."""

def merge(shards: Iterable[Union[str, Mapping[str, Any]]]) -> JSON:
    """As `regain merge --format json`: shards (dicts or JSON text) combined."""

def fmt(source: str) -> str:
    """The canonical form of a policy's source. Raises PolicyError."""
