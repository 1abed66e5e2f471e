"""The provider's wire format, shared by the client and the simulator: its paths, the
form encoding it takes, and how it writes a time (PROTOCOL.md)."""

GROUP_PATH = "/smsApi/group"
BALANCE_PATH = "/smsApi/group/getBalance"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=utf-8"
#: Send times and pushed times, in China time.
SEND_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
