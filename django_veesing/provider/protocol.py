"""The provider's wire format, shared by the client and the simulator: its paths, the
form encoding it takes, and how it writes a time (PROTOCOL.md)."""

GROUP_PATH = "/smsApi/group"
BALANCE_PATH = "/smsApi/group/getBalance"
VERIFY_CODE_PATH = "/smsApi/verifyCode"
#: What ``returnStatus`` says of a success: "1" (sometimes "1 ") for the group send and the
#: balance; "2000" in the provider's own verification-code sample, "1" in other integrations.
SUCCESS = ("1",)
CODE_SUCCESS = ("2000", "1")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=utf-8"
#: Send times and pushed times, in China time.
SEND_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
