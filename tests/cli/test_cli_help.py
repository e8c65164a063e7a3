import argparse

from rehue.cli import build_parser


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {inner}", deeper) for inner, deeper in _subparsers(sub))


def test_every_option_of_every_command_says_what_it_does():
    bare = [f"{command} {action.option_strings or action.dest}"
            for command, parser in _subparsers(build_parser()) for action in parser._actions
            if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help]
    assert bare == []
