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
