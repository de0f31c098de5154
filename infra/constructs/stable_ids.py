"""Logical ids that stay put when resources move into a capability construct.

CloudFormation knows a resource by its logical id, which CDK derives from the construct path: the ids
along the path, then a hash of the path. The table, the queues and the bus have fixed names, the API a
URL clients call and the event source mappings a position in their stream or queue, so a new id would
make CloudFormation create a second resource that cannot coexist with the first (or starts over).

The stack was split into constructs by capability after it had been deployed. A `StackLevel` construct
is left out of its resources' logical ids, so they keep the ids they had as the stack's own children.
That includes ids that embed another construct's unique id: an event source mapping is named after its
queue or table, a Lambda permission after its API or rule. New capabilities (monitoring) are ordinary
constructs and carry their own name in their ids. tests/infra/test_stable_ids.py pins the ids of what
was deployed. (Every id is pinned once allocated, so `Stack.rename_logical_id` has no effect here.)

Invokers moved the same way when the functions got SnapStart: what used to be bound to a function (its
event source mappings, the authorizer's permission) is now bound to the function's alias, and keeps the
id it had (`keep_bound_ids`). CloudFormation then updates a mapping in place, to invoke the alias, and it
carries on from its position in the stream rather than starting over at the stream's trim horizon.
"""
from __future__ import annotations

import hashlib
import re

from aws_cdk import CfnElement, Stack
from constructs import Construct

# CDK's makeUniqueId (aws-cdk-lib core/lib/private/uniqueid.ts), which every deployed CDK stack relies
# on never changing; tests/infra/test_stable_ids.py checks this copy against CDK.
_HIDDEN_ID = "Default"
_HIDDEN_FROM_HUMAN_ID = "Resource"
_HASH_LEN = 8
_MAX_HUMAN_LEN = 240
_MAX_ID_LEN = 255


def make_unique_id(components: list[str]) -> str:
    """The unique id of a construct path (from the stack down: a logical id; from the app: a unique id)."""
    components = [c for c in components if c != _HIDDEN_ID]
    if not components:
        raise ValueError("a unique id needs at least one path component")
    if len(components) == 1 and len(_alphanumeric(components[0])) <= _MAX_ID_LEN:
        return _alphanumeric(components[0])
    digest = hashlib.md5("/".join(components).encode()).hexdigest()[:_HASH_LEN].upper()
    human = [c for c in _without_dupes(components) if c != _HIDDEN_FROM_HUMAN_ID]
    return "".join(_alphanumeric(c) for c in human)[:_MAX_HUMAN_LEN] + digest


def _alphanumeric(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", s)


def _without_dupes(path: list[str]) -> list[str]:
    kept: list[str] = []
    for component in path:
        if not kept or not kept[-1].endswith(component):
            kept.append(component)
    return kept


class StackWithStableIds(Stack):
    """A stack whose `StackLevel` constructs leave no trace in logical ids."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._stack_level: set[str] = set()
        self._legacy_unique_ids: dict[str, str] = {}  # a descendant's unique id now -> before the split
        self._rewritten: dict[str, str] = {}
        self._stack_path = self.node.path.split("/")
        # path of a construct now bound to -> (path of the one formerly bound to, path of its own resource)
        self._bound_ids: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...] | None]] = {}

    def keep_bound_ids(self, *, bound_to: Construct, formerly: Construct) -> None:
        """What is bound to `bound_to` (permissions, event source mappings: CDK creates them as its
        children) keeps the logical id it had as a child of `formerly`. `bound_to`'s own resource does not."""
        own = bound_to.node.default_child
        self._bound_ids[self._relative(bound_to)] = (self._relative(formerly), own and self._relative(own))

    def _relative(self, construct: Construct) -> tuple[str, ...]:
        return tuple(construct.node.path.split("/")[len(self._stack_path):])

    def _formerly(self, path: list[str]) -> list[str]:
        for bound_to, (formerly, own) in self._bound_ids.items():
            if len(path) > len(bound_to) and tuple(path[:len(bound_to)]) == bound_to and tuple(path) != own:
                return [*formerly, *path[len(bound_to):]]
        return path

    def _allocate_logical_id(self, cfn_element: CfnElement) -> str:
        path = cfn_element.node.path.split("/")[len(self._stack_path):]
        formerly = self._formerly(path)
        legacy = [self._legacy_component(c) for c in (formerly[1:] if formerly[0] in self._stack_level else formerly)]
        logical_id = super()._allocate_logical_id(cfn_element) if legacy == path else make_unique_id(legacy)
        # CDK asks again on every resolve (thousands of calls into Python per synth); an element's id
        # never changes, so it is pinned now. An element that sets its own id later (the API's
        # deployment, named after a hash of the API) overrides this, as it would CDK's own.
        cfn_element.override_logical_id(logical_id)
        return logical_id

    def _legacy_component(self, component: str) -> str:
        """The component with any embedded unique id of a stack-level construct's descendant replaced
        by the unique id that descendant had before the split."""
        if component not in self._rewritten:
            prefixes = ["".join(_alphanumeric(c) for c in self._stack_path) + group for group in self._stack_level]
            rewritten = component
            if any(prefix in component for prefix in prefixes):
                if not self._replace_unique_ids(component):
                    self._legacy_unique_ids = self._unique_ids()  # the tree grew since the last look
                rewritten = self._replace_unique_ids(component) or component
            self._rewritten[component] = rewritten
        return self._rewritten[component]

    def _replace_unique_ids(self, component: str) -> str | None:
        for new, legacy in self._legacy_unique_ids.items():
            if new in component:
                return component.replace(new, legacy)
        return None

    def _unique_ids(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        stack_path = self._stack_path
        for group in self.node.children:
            if group.node.id not in self._stack_level:
                continue
            for construct in group.node.find_all():
                path = construct.node.path.split("/")
                if len(path) > len(stack_path) + 1:
                    ids[make_unique_id(path)] = make_unique_id(stack_path + path[len(stack_path) + 1:])
        return ids


class StackLevel(Construct):
    """A group of the stack's resources by capability, whose resources keep stack-level logical ids."""

    def __init__(self, scope: StackWithStableIds, construct_id: str) -> None:
        if not isinstance(scope, StackWithStableIds):
            raise TypeError(f"{construct_id} belongs directly in a StackWithStableIds")
        super().__init__(scope, construct_id)
        scope._stack_level.add(construct_id)
