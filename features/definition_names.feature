@table:definitions @contract
Feature: A definition named in another case
  The source names the two definitions "All" and "External" and says nothing about how a
  message names them. docs/contract.md matches the name case-insensitively, so a message
  naming "external" or "ALL" is handled as that definition. A target that refuses it, or
  handles it otherwise, differs from the contract, not from the source: every check here
  is level contract, reported beside the verdict.

  Scenario Outline: <ref> <application> naming the "<named>" definition, to an internal user
    Given an internal user "Ines"
    And an internal user "Ida"
    When Ines sends a secure message from "<application>" using the "<named>" definition to Ida
    Then Ida gets:
      | Mail Box   | MPP   | Message in SM Portal   |
      | <Mail Box> | <MPP> | <Message in SM Portal> |

    @requires:mpp
    Examples: Mimecast Personal Portal (the two definitions differ here)
      | ref   | application              | named    | Mail Box          | MPP               | Message in SM Portal |
      | T3-r3 | Mimecast Personal Portal | all      | Notification      | Notification      | Yes                  |
      | T3-r4 | Mimecast Personal Portal | EXTERNAL | Email with banner | Email with banner | Yes                  |

    @requires:smtp-submission
    Examples: Microsoft Office
      | ref   | application          | named    | Mail Box          | MPP               | Message in SM Portal |
      | T3-r1 | Mimecast for Outlook | aLL      | Email with banner | Email with banner | No                   |

  Scenario Outline: <ref> <application> naming the "<named>" definition, to an external user
    Given an internal user "Ines"
    And an external user "Erik"
    When Ines sends a secure message from "<application>" using the "<named>" definition to Erik
    Then Erik gets:
      | Mail Box     | MPP           | Message in SM Portal |
      | Notification | not specified | Yes (derived)        |

    @requires:smtp-submission
    Examples: desktop applications
      | ref   | application          | named    |
      | T1-r1 | Mimecast for Outlook | external |
      | T1-r1 | Mimecast for Mac     | ALL      |
