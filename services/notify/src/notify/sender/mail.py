"""E-mail alerts over SMTP with aiosmtplib; failures become the same reason codes as webhooks."""

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from notify.deliveries.domain import Reason, smtp_reason


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


class MailRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Mailer:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def send(self, message: EmailMessage) -> None:
        """Hand the message to the server; MailRejected(reason) if it did not take it."""
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                start_tls=server.starttls,
                username=server.username,
                password=server.password,
                timeout=server.timeout_s,
            )
        except aiosmtplib.SMTPTimeoutError:
            raise MailRejected(Reason.TIMEOUT) from None
        except aiosmtplib.SMTPConnectError:
            raise MailRejected(Reason.CONNECT_ERROR) from None
        except aiosmtplib.SMTPRecipientsRefused as refused:
            # Codes only: the server's text may quote the address back.
            codes = [error.code for error in refused.recipients]
            raise MailRejected(smtp_reason(codes[0]) if codes else Reason.SMTP_ERROR) from None
        except aiosmtplib.SMTPResponseException as error:
            raise MailRejected(smtp_reason(error.code)) from None
        except (aiosmtplib.SMTPException, OSError):
            raise MailRejected(Reason.SMTP_ERROR) from None
