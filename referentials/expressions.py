"""The dictionary's small, safe expression language.

Rules (``lits_rea_occupes <= lits_rea_installes``), conditions (``cas_confirmes > 0``) and
indicators (``100 * lits_rea_occupes / lits_rea_installes``) are written once in this language.
It borrows Python's expression *syntax* (parsed by ``ast``), but nothing of Python's semantics:
the tree is checked against a short whitelist, typed against the definitions it names, and
compiled into a tree of closures. There is no ``eval``, no attribute, no subscript, no call
but the functions listed in ``FUNCTIONS``, and no name but the definition codes given.

Missing values: an expression that reads a definition with no value raises ``MissingValue``;
the engine then treats the rule as not applicable. ``renseigne(code)`` tests presence.
"""

import ast
import difflib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"
TEXT = "text"
SET = "set"  # multiple choice: a set of codes
TYPE_LABELS = {
    NUMBER: "un nombre",
    BOOLEAN: "oui/non",
    DATE: "une date",
    TEXT: "un texte",
    SET: "une liste de choix",
}

MAX_LENGTH = 1000
MAX_NODES = 300

Env = Mapping[str, Any]
Evaluator = Callable[[Env], Any]


class ExpressionError(ValueError):
    """An expression that cannot be accepted, with a French message and a column."""

    def __init__(self, message: str, *, column: int | None = None) -> None:
        self.message = message
        self.column = column
        where = f" (colonne {column + 1})" if column is not None else ""
        super().__init__(f"{message}{where}")


class EvaluationError(ArithmeticError):
    """A value could not be computed (division by zero, overflow): French message."""


class MissingValue(LookupError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Compiled:
    source: str
    result_type: str
    names: frozenset[str]
    _evaluate: Evaluator

    def evaluate(self, env: Env) -> Any:
        """The value, or MissingValue / EvaluationError; never another exception."""
        try:
            return self._evaluate(env)
        except (MissingValue, EvaluationError):
            raise
        except (ZeroDivisionError, DivisionByZero):
            raise EvaluationError(f"division par zéro dans « {self.source} »") from None
        except (InvalidOperation, OverflowError, ArithmeticError) as error:
            raise EvaluationError(f"calcul impossible dans « {self.source} » : {error}") from None


@dataclass(frozen=True)
class _Node:
    type: str
    evaluate: Evaluator


def _presence(env: Env, code: str) -> bool:
    value = env.get(code)
    return value is not None and value != "" and value != frozenset()


# The only callable names, with the help shown in error messages.
FUNCTIONS: dict[str, str] = {
    "renseigne": "renseigne(code) : vrai si la définition a une valeur",
    "abs": "abs(x) : valeur absolue",
    "min": "min(a, b, ...) : le plus petit",
    "max": "max(a, b, ...) : le plus grand",
    "contient": 'contient(code, "valeur") : vrai si un choix multiple contient la valeur',
}

_ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARISONS = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ORDERED = {NUMBER, DATE, TEXT}


def _divide(left: Any, right: Any) -> Any:
    if right == 0:
        raise ZeroDivisionError
    return Decimal(left) / Decimal(right)


class _Compiler:
    def __init__(self, source: str, types: Mapping[str, str]) -> None:
        self.source = source
        self.types = types
        self.names: set[str] = set()

    def fail(self, message: str, node: ast.AST | None = None) -> ExpressionError:
        return ExpressionError(message, column=getattr(node, "col_offset", None))

    # One method per accepted ast node type, named after it (_Name, _BinOp...).
    def compile(self, node: ast.AST) -> _Node:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.fail(
                f"construction non autorisée ({type(node).__name__}) : seuls les nombres, les "
                "codes de définitions, + - * /, les comparaisons, and/or/not, « x if c else y » "
                f"et les fonctions {', '.join(FUNCTIONS)} sont permis",
                node,
            )
        return method(node)

    def _Constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, bool):
            return _Node(BOOLEAN, lambda env, v=value: v)
        if isinstance(value, int):
            return _Node(NUMBER, lambda env, v=value: v)
        if isinstance(value, float):
            decimal = Decimal(repr(value))
            return _Node(NUMBER, lambda env, v=decimal: v)
        if isinstance(value, str):
            return _Node(TEXT, lambda env, v=value: v)
        raise self.fail(f"valeur non autorisée : {value!r}", node)

    def _Name(self, node: ast.Name) -> _Node:
        code = node.id
        if code not in self.types:
            close = difflib.get_close_matches(code, list(self.types), n=1)
            hint = f" Vouliez-vous dire « {close[0]} » ?" if close else ""
            raise self.fail(f"code de définition inconnu : « {code} ».{hint}", node)
        self.names.add(code)

        def read(env: Env, code: str = code) -> Any:
            value = env.get(code)
            if value is None or value == "":
                raise MissingValue(code)
            return value

        return _Node(self.types[code], read)

    def _UnaryOp(self, node: ast.UnaryOp) -> _Node:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            self.expect(operand, BOOLEAN, node, "« not »")
            return _Node(BOOLEAN, lambda env, f=operand.evaluate: not f(env))
        if isinstance(node.op, ast.USub | ast.UAdd):
            self.expect(operand, NUMBER, node, "le signe")
            if isinstance(node.op, ast.UAdd):
                return operand
            return _Node(NUMBER, lambda env, f=operand.evaluate: -f(env))
        raise self.fail("opérateur non autorisé", node)

    def _BinOp(self, node: ast.BinOp) -> _Node:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise self.fail("seuls + - * / sont permis (pas de puissance ni de modulo)", node)
        left, right = self.compile(node.left), self.compile(node.right)
        if isinstance(node.op, ast.Sub) and left.type == DATE and right.type == DATE:
            # date - date: a number of days
            return _Node(
                NUMBER, lambda env, a=left.evaluate, b=right.evaluate: (a(env) - b(env)).days
            )
        self.expect(left, NUMBER, node.left, "le calcul")
        self.expect(right, NUMBER, node.right, "le calcul")
        if isinstance(node.op, ast.Div):
            op = _divide
        return _Node(
            NUMBER, lambda env, a=left.evaluate, b=right.evaluate, op=op: op(a(env), b(env))
        )

    def _BoolOp(self, node: ast.BoolOp) -> _Node:
        parts = [self.compile(value) for value in node.values]
        for part, value in zip(parts, node.values, strict=True):
            self.expect(part, BOOLEAN, value, "« and » / « or »")
        evaluators = tuple(part.evaluate for part in parts)
        if isinstance(node.op, ast.And):
            return _Node(BOOLEAN, lambda env: all(f(env) for f in evaluators))
        return _Node(BOOLEAN, lambda env: any(f(env) for f in evaluators))

    def _Compare(self, node: ast.Compare) -> _Node:
        operands = [self.compile(node.left), *(self.compile(c) for c in node.comparators)]
        steps: list[tuple[Callable[[Any, Any], bool], Evaluator, Evaluator]] = []
        for i, op_node in enumerate(node.ops):
            left, right = operands[i], operands[i + 1]
            if isinstance(op_node, ast.In | ast.NotIn):
                raise self.fail('utilisez contient(code, "valeur") plutôt que « in »', node)
            op = _COMPARISONS.get(type(op_node))
            if op is None:
                raise self.fail("comparaison non autorisée", node)
            if left.type != right.type:
                raise self.fail(
                    f"comparaison impossible entre {TYPE_LABELS[left.type]} et "
                    f"{TYPE_LABELS[right.type]}",
                    node,
                )
            if op not in (operator.eq, operator.ne) and left.type not in _ORDERED:
                raise self.fail(f"{TYPE_LABELS[left.type]} ne se compare pas par ordre", node)
            steps.append((op, left.evaluate, right.evaluate))

        def compare(env: Env) -> bool:
            return all(op(a(env), b(env)) for op, a, b in steps)

        return _Node(BOOLEAN, compare)

    def _IfExp(self, node: ast.IfExp) -> _Node:
        test, body, orelse = (
            self.compile(node.test),
            self.compile(node.body),
            self.compile(node.orelse),
        )
        self.expect(test, BOOLEAN, node.test, "la condition de « if »")
        if body.type != orelse.type:
            raise self.fail(
                "les deux branches de « x if c else y » doivent avoir le même type", node
            )
        return _Node(
            body.type,
            lambda env, t=test.evaluate, b=body.evaluate, o=orelse.evaluate: (
                b(env) if t(env) else o(env)
            ),
        )

    def _Call(self, node: ast.Call) -> _Node:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail(
                f"fonction non autorisée ; fonctions permises : {', '.join(FUNCTIONS)}", node
            )
        if node.keywords:
            raise self.fail("les arguments nommés ne sont pas permis", node)
        name, args = node.func.id, node.args
        if name == "renseigne":
            if len(args) != 1 or not isinstance(args[0], ast.Name):
                raise self.fail("renseigne() prend un seul code de définition", node)
            self._Name(args[0])  # checks the code exists and records it
            code = args[0].id
            return _Node(BOOLEAN, lambda env, c=code: _presence(env, c))
        if name == "contient":
            if len(args) != 2:
                raise self.fail(
                    'contient() prend un code et une valeur : contient(code, "x")', node
                )
            collection, item = self.compile(args[0]), self.compile(args[1])
            self.expect(collection, SET, args[0], "contient()")
            self.expect(item, TEXT, args[1], "contient()")
            return _Node(
                BOOLEAN, lambda env, c=collection.evaluate, i=item.evaluate: i(env) in c(env)
            )
        compiled = [self.compile(arg) for arg in args]
        if not compiled or (name == "abs" and len(compiled) != 1):
            raise self.fail(f"{FUNCTIONS[name]}", node)
        for part, arg in zip(compiled, args, strict=True):
            self.expect(part, NUMBER, arg, f"{name}()")
        evaluators = tuple(part.evaluate for part in compiled)
        if name == "abs":
            return _Node(NUMBER, lambda env, f=evaluators[0]: abs(f(env)))
        pick = min if name == "min" else max
        return _Node(NUMBER, lambda env: pick(f(env) for f in evaluators))

    def expect(self, node: _Node, wanted: str, where: ast.AST, context: str) -> None:
        if node.type != wanted:
            raise self.fail(
                f"{context} attend {TYPE_LABELS[wanted]}, pas {TYPE_LABELS[node.type]}", where
            )


def compile_expression(source: str, *, types: Mapping[str, str]) -> Compiled:
    """Check and compile ``source`` against the definition codes and their types.

    ``types`` maps each code that may appear to NUMBER, BOOLEAN, DATE, TEXT or SET.
    """
    text = (source or "").strip()
    if not text:
        raise ExpressionError("l'expression est vide")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"l'expression dépasse {MAX_LENGTH} caractères")
    if "__" in text:
        raise ExpressionError("les doubles soulignés « __ » ne sont pas permis")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(
            f"syntaxe invalide : {error.msg}", column=(error.offset or 1) - 1
        ) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"l'expression est trop longue (plus de {MAX_NODES} éléments)")
    compiler = _Compiler(text, types)
    root = compiler.compile(tree.body)
    return Compiled(
        source=text,
        result_type=root.type,
        names=frozenset(compiler.names),
        _evaluate=root.evaluate,
    )


def referenced_codes(source: str) -> set[str]:
    """The plain names an expression mentions, without checking them (for dependency graphs)."""
    try:
        tree = ast.parse((source or "").strip(), mode="eval")
    except SyntaxError:
        return set()
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name)
        and node.id not in FUNCTIONS
        and node.id not in {"True", "False"}
    }


__all__ = [
    "BOOLEAN",
    "DATE",
    "FUNCTIONS",
    "NUMBER",
    "SET",
    "TEXT",
    "Compiled",
    "EvaluationError",
    "ExpressionError",
    "MissingValue",
    "compile_expression",
    "referenced_codes",
]
