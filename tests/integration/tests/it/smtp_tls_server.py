"""An SMTP server over TLS for the mail tests (aiosmtpd): STARTTLS or SMTPS with the given
certificate, optionally requiring AUTH (PLAIN/LOGIN) with one user, filing every accepted mail
in a Maildir. Prints its port once it accepts connections; stops when stdin closes."""

import argparse
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["starttls", "smtps"], required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == args.user
            and auth_data.password.decode() == args.password
        )
        return AuthResult(success=ok, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    options = {}
    if args.user:
        options.update(authenticator=authenticator, auth_required=True)
    if args.mode == "starttls":
        options.update(tls_context=context, require_starttls=True)
    else:
        # aiosmtpd does not count implicit TLS as TLS for AUTH; the connection is encrypted.
        options.update(ssl_context=context, auth_require_tls=False)
    port = free_port()
    controller = Controller(Mailbox(args.maildir), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
