"""CountWords: a class-style processor using the session API."""

from __future__ import annotations

from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)


class CountWords(Processor):
    """Counts the words of text content into the ``word.count`` attribute.

    Texts with more words than Long Text Threshold go to ``long``, the others to
    ``success``; content that is not valid UTF-8 goes to ``failure``.
    """

    tags = ("text", "example")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {"word.count": "number of whitespace-separated words"}

    THRESHOLD = PropertyDescriptor(
        "long_text_threshold",
        "Texts with more words than this are routed to 'long'.",
        display_name="Long Text Threshold",
        default="100",
        required=True,
        validators=(validators.NON_NEGATIVE_INTEGER,),
    )
    SUCCESS = Relationship("success", "Short texts, counted")
    LONG = Relationship("long", "Texts longer than the threshold, counted")
    FAILURE = Relationship("failure", "Content that is not UTF-8 text")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        threshold = context.property(self.THRESHOLD).as_int() or 0
        for ff in session.get(context.batch_size):
            try:
                words = len(session.read(ff).decode("utf-8").split())
            except UnicodeDecodeError as exc:
                ff = session.put_attribute(
                    ff, "error.message", f"not UTF-8 text: {exc}"
                )
                session.transfer(ff, self.FAILURE)
                continue
            ff = session.put_attribute(ff, "word.count", str(words))
            session.transfer(ff, self.LONG if words > threshold else self.SUCCESS)
