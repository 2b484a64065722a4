"""Python objects the dag-factory samples name: callables, callbacks, a notifier and
an operator. Both the dag-factory load and the imported dagf output import them."""

from airflow.sdk import BaseOperator
from airflow.sdk.bases.notifier import BaseNotifier


def extract(**context):
    return "extracted"


def transform(**context):
    return "transformed"


def load(**context):
    return "loaded"


def is_ready(**context):
    return True


def notify_failure(context):
    print("failed", context)


def notify_success(context):
    print("succeeded", context)


def post(context, channel, mention=None):
    print("post to", channel, mention)


class ChatNotifier(BaseNotifier):
    """Posts to a chat channel."""

    def __init__(self, channel, urgency="low"):
        super().__init__()
        self.channel = channel
        self.urgency = urgency

    def notify(self, context):
        print("notify", self.channel, self.urgency)


class EchoOperator(BaseOperator):
    """Prints a message (a custom operator for the importer's tests)."""

    def __init__(self, message, repeat=1, **kwargs):
        super().__init__(**kwargs)
        self.message = message
        self.repeat = repeat

    def execute(self, context):
        for _ in range(self.repeat):
            print(self.message)
