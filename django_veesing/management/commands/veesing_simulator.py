import argparse
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_veesing.provider.protocol import GROUP_PATH
from django_veesing.simulator import RemoteAddressRefused, Simulator, SimulatorConfig

ALIASES = {"callback_url": ["--callback"], "reply_callback_url": ["--reply-callback"]}


class Command(BaseCommand):
    help = (
        "Run a local fake of the Veesing provider: group sends, balance, and pushed "
        "receipts and replies. Point VEESING['API_URL'] at it. By default it accepts the "
        "APP_ID/APP_KEY of your VEESING settings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback unless --allow-remote)")
        parser.add_argument("--port", type=int, default=8025, help="port to listen on (default 8025)")
        for name, default, help_text in SimulatorConfig.options():
            flag = "--" + name.replace("_", "-")
            options: dict[str, Any] = {"dest": name, "default": default, "help": help_text}
            if isinstance(default, bool):
                options["action"] = argparse.BooleanOptionalAction
            elif isinstance(default, tuple):
                options["type"] = _comma_list
                options["help"] += " (comma-separated)"
            elif default is not None:
                options["type"] = type(default)
            if default not in (None, (), "") and not isinstance(default, bool):
                options["help"] += f" (default {','.join(default) if isinstance(default, tuple) else default})"
            parser.add_argument(flag, *ALIASES.get(name, []), **options)

    def handle(self, *args: Any, **options: Any) -> None:
        names = {name for name, _default, _help in SimulatorConfig.options()}
        config = SimulatorConfig(**{name: options[name] for name in names})
        if options["verbosity"] >= 2:
            logging.basicConfig(level=logging.DEBUG)
        try:
            simulator = Simulator(config, host=options["host"], port=options["port"])
        except RemoteAddressRefused as exc:
            raise CommandError(str(exc)) from None
        try:
            simulator.start()
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror}. "
                "Is another simulator running? Choose another --port."
            ) from None
        self.stdout.write(f"Veesing simulator listening on {simulator.url}")
        self.stdout.write(f"  group send: {simulator.url}{GROUP_PATH}")
        self.stdout.write(f"  receipts pushed to: {config.callback_url or '(nowhere: no --callback)'}")
        self.stdout.write("Quit with CONTROL-C.")
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Simulator stopped.")


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())
