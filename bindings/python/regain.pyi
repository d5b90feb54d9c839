"""Type stubs of the `regain` module (bindings of the regain Rust library).

Every dict answer is the JSON object that the `regain` CLI prints with `--format json`.
"""

from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Tuple, Union, final, overload

__version__: str
__all__ = [
    "__version__",
    "Error",
    "PolicyError",
    "ProfileError",
    "ModelError",
    "Policy",
    "Engine",
    "Decision",
    "Path",
    "check",
    "analyze",
    "diff",
    "simulate",
    "merge",
    "fmt",
]

# Aliases for these stubs only (not names of the module).
_JSON = Dict[str, Any]
_Profile = Mapping[str, Any]

class Error(ValueError):
    """Every error of the regain package."""

class PolicyError(Error):
    """A policy that does not parse or check."""

    diagnostics: List[_JSON]
    """Every diagnostic (errors and warnings): code, severity, message, file, line, col,
    end_line, end_col, label, help, labels."""

class ProfileError(Error):
    """A profile that does not fit the policy's facts."""

    fact: Optional[str]
    """The fact (or key) of the first problem, when there is one."""
    problems: List[_JSON]
    """Every problem: {"fact": str | None, "message": str}."""
    index: Optional[int]
    """The position of the profile in `Engine.evaluate_many`, else None."""

class ModelError(Error):
    """A simulation model that does not fit the policy."""

    location: str
    """Where in the model (a key path), or "" for the whole document."""

@final
class Policy:
    """A parsed and checked policy. Raises PolicyError."""

    def __new__(cls, source: str, name: str = "<policy>") -> "Policy": ...
    @property
    def name(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def warnings(self) -> List[_JSON]: ...
    @property
    def facts(self) -> List[str]: ...
    @property
    def path_names(self) -> List[str]: ...

@final
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
    def to_dict(self) -> _JSON: ...

@final
class Decision:
    """The decision for one profile (immutable, hashable)."""

    @property
    def kind(self) -> Literal["allow", "deny", "lockout"]: ...
    @property
    def paths(self) -> List[Path]: ...
    @property
    def denied_by(self) -> List[str]: ...
    def to_dict(self) -> _JSON:
        """Exactly the object `regain eval --format json` prints."""

@final
class Engine:
    """A compiled policy. Immutable and thread-safe."""

    def __new__(cls, policy: Union[Policy, str]) -> "Engine": ...
    @property
    def policy(self) -> Policy: ...
    def evaluate(self, profile: _Profile) -> Decision:
        """Raises ProfileError."""
    @overload
    def evaluate_many(
        self, profiles: Iterable[_Profile], errors: Literal["raise"] = "raise"
    ) -> List[Decision]: ...
    @overload
    def evaluate_many(
        self, profiles: Iterable[_Profile], errors: Literal["return"]
    ) -> List[Union[Decision, _JSON]]: ...
    def explain(self, profile: _Profile) -> _JSON:
        """{"denies": [...], "paths": [...]} as `regain eval --explain --format json`."""

def check(source: str, name: str = "<policy>") -> List[_JSON]:
    """Every diagnostic of a policy (errors and warnings) as dicts."""

def analyze(source: Union[str, Policy]) -> _JSON:
    """As `regain analyze --format json`."""

def diff(old: Union[str, Policy], new: Union[str, Policy]) -> _JSON:
    """As `regain diff OLD NEW --format json`."""

def simulate(
    source: Union[str, Policy],
    model: Union[str, Mapping[str, Any]],
    trials: int = 1_000_000,
    seed: int = 1,
    exact: bool = False,
    shard: Optional[Tuple[int, int]] = None,
    threads: Optional[int] = None,
) -> _JSON:
    """As `regain simulate --format json`; `model` is YAML text or a dict."""

def merge(shards: Iterable[Union[str, Mapping[str, Any]]]) -> _JSON:
    """As `regain merge --format json`: shards (dicts or JSON text) combined."""

def fmt(source: str) -> str:
    """The canonical form of a policy's source. Raises PolicyError."""
