@table:T1
Feature: Table 1 — Internal User Sending Messages to External Users
  Source: "Internal Users Application / Routing Definition / External Recipients Application".
  Its single row, "All applications (e.g. Mimecast for Outlook / Mimecast for Mac /
  Mimecast Personal Portal)" with "All or External", stands for the six concrete
  cases below. The MPP and SM Portal cells are blank in the source: the MPP cell is
  observed only (external users have no MPP); "Notification" means the message is
  ready in the SM Portal, so "Yes" there is derived.

  Scenario Outline: <ref> <application> with the <definition> definition, to an external recipient
    Given an internal user "Ines"
    And an external user "Erik"
    When Ines sends a secure message from "<application>" using the "<definition>" definition to Erik
    Then Erik gets:
      | Mail Box   | MPP   | Message in SM Portal   |
      | <Mail Box> | <MPP> | <Message in SM Portal> |

    @requires:smtp-submission
    Examples: desktop applications
      | ref   | application          | definition | Mail Box     | MPP           | Message in SM Portal |
      | T1-r1 | Mimecast for Outlook | All        | Notification | not specified | Yes (derived)        |
      | T1-r1 | Mimecast for Outlook | External   | Notification | not specified | Yes (derived)        |
      | T1-r1 | Mimecast for Mac     | All        | Notification | not specified | Yes (derived)        |
      | T1-r1 | Mimecast for Mac     | External   | Notification | not specified | Yes (derived)        |

    @requires:mpp
    Examples: the Mimecast Personal Portal
      | ref   | application              | definition | Mail Box     | MPP           | Message in SM Portal |
      | T1-r1 | Mimecast Personal Portal | All        | Notification | not specified | Yes (derived)        |
      | T1-r1 | Mimecast Personal Portal | External   | Notification | not specified | Yes (derived)        |

  Scenario Outline: <ref> <message> from <application> with the <definition> definition, to several external recipients
    Every recipient of one message gets what the row says, whichever of To or Cc names them.
    Given an internal user "Ines"
    And an external user "Erik"
    And an external user "Eva"
    And an external user "Emil"
    When Ines sends <message> from "<application>" using the "<definition>" definition to Erik and Eva, copying Emil
    Then every recipient gets what the source says for them

    @requires:smtp-submission
    Examples: desktop applications
      | ref   | application          | definition | message                                                  |
      | T1-r1 | Mimecast for Outlook | All        | a secure message                                         |
      | T1-r1 | Mimecast for Mac     | External   | a secure message with an HTML part                       |
      | T1-r1 | Mimecast for Outlook | External   | a secure message with an attachment                      |
      | T1-r1 | Mimecast for Mac     | All        | a long secure message                                    |
      | T1-r1 | Mimecast for Outlook | All        | a secure message with a non-ASCII subject and sender name |

    @requires:mpp
    Examples: the Mimecast Personal Portal
      | ref   | application              | definition | message                            |
      | T1-r1 | Mimecast Personal Portal | External   | a secure message with an HTML part |

  Scenario Outline: <ref> <application> with the <definition> definition, to internal and external recipients together
    The external recipients are judged by table 1 at their usual level. No table covers a
    message with internal and external recipients (SPEC-READING defect 4): judging its internal
    recipients by table 3 is docs/contract.md's per-recipient reading, so those checks are level
    contract — a target that, say, notifies them differs from the contract, not from the source.
    Given an internal user "Ines"
    And an internal user "Ida"
    And an external user "Erik"
    And an external user "Eva"
    When Ines sends a secure message with an HTML part from "<application>" using the "<definition>" definition to Erik and Ida, copying Eva
    Then every recipient gets what the source says for them

    @requires:smtp-submission
    Examples: desktop applications
      | ref         | application          | definition |
      | T1-r1 T3-r1 | Mimecast for Outlook | All        |
      | T1-r1 T3-r2 | Mimecast for Outlook | External   |

    @requires:mpp
    Examples: the Mimecast Personal Portal
      | ref         | application              | definition |
      | T1-r1 T3-r3 | Mimecast Personal Portal | All        |
      | T1-r1 T3-r4 | Mimecast Personal Portal | External   |

  Scenario Outline: <ref> <message> from <application> with the <definition> definition, blind-copied to an external user
    A Bcc recipient is an envelope recipient named in no header: table 1 judges them like any
    other external recipient (securing only the To and Cc recipients would hand the Bcc
    recipient the plain original). The other recipients' copies must not reveal them (derived:
    RFC 5322 §3.6.3, RFC 5321 §7.2 — the Notification and the SM Portal message are of the
    message the user sent, whose Bcc is not shown to the other recipients). Sent by SMTP
    submission only (the MPP API has no Bcc); not applicable for a driver without sends_bcc.
    Given an internal user "Ines"
    And an external user "Erik"
    And an external user "Eva"
    And an external user "Emil"
    When Ines sends <message> from "<application>" using the "<definition>" definition to Erik, copying Eva, blind-copying Emil
    Then every recipient gets what the source says for them
    And no copy delivered to Erik and Eva reveals Emil

    @requires:smtp-submission
    Examples: desktop applications
      | ref   | application          | definition | message                            |
      | T1-r1 | Mimecast for Outlook | All        | a secure message                   |
      | T1-r1 | Mimecast for Mac     | External   | a secure message with an HTML part |
