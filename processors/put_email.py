"""PutEmail: sends one email per FlowFile over SMTP (smtplib, with a deadline)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import getaddresses

from flowengine import (
    AllowableValue,
    DynamicProperties,
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

__all__ = ["PutEmail"]

_BOOL = (AllowableValue("true"), AllowableValue("false"))
_EL = ExpressionLanguageScope.FLOWFILE_ATTRIBUTES


def _prop(
    name: str, display: str, doc: str, *, default: str | None = None, **kw: object
) -> PropertyDescriptor:
    return PropertyDescriptor(name, doc, display_name=display, default=default, **kw)  # type: ignore[arg-type]


class PutEmail(Processor):
    """Sends an email for each FlowFile to the configured recipients, as NiFi.

    The message body is Message (Expression Language), optionally followed by every
    attribute (Include All Attributes In Message); with Attach File the content is
    attached under the FlowFile's filename. Each dynamic property adds a header. A
    FlowFile whose email cannot be sent (server down, refused, authentication failed,
    no recipient) goes to ``failure``, penalized, with ``error.message``; as NiFi, it
    is not retried here (route failure back to retry). Every SMTP call has the SMTP
    Timeout deadline (ours; NiFi sets JavaMail's timeouts to its defaults). Not done:
    NiFi's SMTP Socket Factory (implicit TLS, port 465), OAuth2 authorization.
    """

    tags = ("email", "put", "notify", "smtp")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # blocking smtplib: worker threads
    writes_attributes = {"error.message": "why the email was not sent"}
    example = """\
notify:
  type: PutEmail
  properties: {SMTP Hostname: mail.example.com, From: nifi@example.com, To: ops@example.com}
"""

    HOST = _prop(
        "smtp_hostname",
        "SMTP Hostname",
        "The SMTP server host.",
        required=True,
        expression_language=_EL,
    )
    PORT = _prop(
        "smtp_port",
        "SMTP Port",
        "The SMTP server port.",
        default="25",
        required=True,
        expression_language=_EL,
    )
    AUTH = _prop(
        "smtp_auth",
        "SMTP Auth",
        "Whether to log in with SMTP Username and Password.",
        default="true",
        required=True,
        allowable_values=_BOOL,
    )
    USERNAME = _prop(
        "smtp_username",
        "SMTP Username",
        "The user to log in as.",
        expression_language=_EL,
    )
    PASSWORD = _prop("smtp_password", "SMTP Password", "The password.", sensitive=True)
    STARTTLS = _prop(
        "smtp_starttls",
        "SMTP STARTTLS",
        "Upgrade the connection with STARTTLS before authenticating.",
        default="false",
        required=True,
        allowable_values=_BOOL,
    )
    XMAILER = _prop(
        "smtp_x_mailer_header",
        "SMTP X-Mailer Header",
        "The X-Mailer header.",
        default="NiFi",
        required=True,
        expression_language=_EL,
    )
    CONTENT_TYPE = _prop(
        "content_type",
        "Content Type",
        "The MIME type of the message body.",
        default="text/plain",
        required=True,
        expression_language=_EL,
    )
    FROM = _prop(
        "from",
        "From",
        "The sender (comma-separated addresses).",
        required=True,
        expression_language=_EL,
    )
    TO = _prop("to", "To", "Recipients (comma-separated).", expression_language=_EL)
    CC = _prop(
        "cc", "CC", "Copy recipients (comma-separated).", expression_language=_EL
    )
    BCC = _prop(
        "bcc",
        "BCC",
        "Blind copy recipients (comma-separated; not in the headers).",
        expression_language=_EL,
    )
    SUBJECT = _prop(
        "subject",
        "Subject",
        "The subject.",
        default="Message from NiFi",
        expression_language=_EL,
    )
    MESSAGE = _prop(
        "message", "Message", "The body of the message.", expression_language=_EL
    )
    ATTACH = _prop(
        "attach_file",
        "Attach File",
        "Attach the content, named by the filename attribute.",
        default="false",
        required=True,
        allowable_values=_BOOL,
    )
    INCLUDE_ATTRS = _prop(
        "include_all_attributes_in_message",
        "Include All Attributes In Message",
        "Append every attribute (name: value) to the body.",
        default="false",
        required=True,
        allowable_values=_BOOL,
    )
    TIMEOUT = _prop(
        "smtp_timeout",
        "SMTP Timeout",
        "Not in NiFi: the deadline of each SMTP network call.",
        default="30 sec",
        required=True,
        validators=(validators.TIME_PERIOD,),
    )
    dynamic_properties = DynamicProperties(
        "Adds a header to the email.",
        name="A header name",
        value="Its value (Expression Language)",
        expression_language=_EL,
    )
    SUCCESS = Relationship("success", "FlowFiles whose email was sent")
    FAILURE = Relationship("failure", "FlowFiles whose email could not be sent")

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not any(context.property(p).is_set for p in (self.TO, self.CC, self.BCC)):
            return ["at least one of To, CC and BCC must be set"]
        return []

    def _message(
        self, context: ProcessContext, session: ProcessSession, ff: FlowFile
    ) -> tuple[EmailMessage, list[str]]:
        def ev(p: PropertyDescriptor) -> str:
            return context.property(p).evaluate(ff).value or ""

        msg = EmailMessage()
        msg["From"] = ev(self.FROM)
        rcpts: list[str] = []
        for prop, header in ((self.TO, "To"), (self.CC, "Cc"), (self.BCC, None)):
            value = ev(prop)
            if value:
                rcpts += [a for _, a in getaddresses([value]) if a]
                if header:
                    msg[header] = value
        msg["Subject"] = ev(self.SUBJECT)
        msg["X-Mailer"] = ev(self.XMAILER)
        for name, pv in context.dynamic_properties.items():
            msg[name] = pv.evaluate(ff).value or ""
        body = ev(self.MESSAGE)
        if context.property(self.INCLUDE_ATTRS).as_bool():
            body += "\n\n" + "\n".join(
                f"{k}: {v}" for k, v in sorted(ff.attributes.items())
            )
        maintype, _, subtype = ev(self.CONTENT_TYPE).partition("/")
        msg.set_content(
            body, subtype=subtype or "plain"
        ) if maintype == "text" else msg.set_content(body)
        if context.property(self.ATTACH).as_bool():
            mime = (ff.get("mime.type") or "application/octet-stream").split("/", 1)
            msg.add_attachment(
                session.read(ff),
                maintype=mime[0],
                subtype=mime[1] if len(mime) > 1 else "octet-stream",
                filename=ff.get("filename") or "attachment",
            )
        return msg, rcpts

    def _send(
        self, context: ProcessContext, ff: FlowFile, msg: EmailMessage, rcpts: list[str]
    ) -> None:
        host = context.property(self.HOST).evaluate(ff).value or ""
        port = int(context.property(self.PORT).evaluate(ff).value or "25")
        deadline = context.property(self.TIMEOUT).as_duration() or 30.0
        with smtplib.SMTP(host, port, timeout=deadline) as smtp:
            if context.property(self.STARTTLS).as_bool():
                smtp.starttls()
            user = context.property(self.USERNAME).evaluate(ff).value
            if context.property(self.AUTH).as_bool() and user:
                smtp.login(user, context.property(self.PASSWORD).value or "")
            smtp.send_message(msg, to_addrs=rcpts)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            try:
                msg, rcpts = self._message(context, session, ff)
                if not rcpts:
                    raise ValueError("no recipient: To, CC and BCC evaluate to nothing")
                self._send(context, ff, msg, rcpts)
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                context.logger.debug("email_not_sent", flowfile=ff.uuid, error=str(exc))
                ff = session.put_attribute(
                    ff, "error.message", f"email not sent: {exc}"
                )
                session.transfer(session.penalize(ff), self.FAILURE)
                continue
            session.transfer(ff, self.SUCCESS)
