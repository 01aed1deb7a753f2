"""Evaluation harness (`qa eval`): placeholder until the harness lands."""


def add_parser(sub) -> None:
    """Register `qa eval` on the CLI's subparsers."""
