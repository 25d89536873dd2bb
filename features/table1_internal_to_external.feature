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
    The source's row for each recipient decides what that recipient gets: table 1 for
    the external ones, table 3 for the internal ones.
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
