@table:T3
Feature: Table 3 — Secure Messages Sent Between Internal Users
  Source: "Internal Users Sending Secure Messages / Internal Recipient's Application".
  "Microsoft Office" is taken to be Mimecast for Outlook (source defect D3).
  The Secure Messaging Portal only replies: sending from it means replying there to a
  secure message the other user sent from the Mimecast Personal Portal with the same
  definition. Rows 5 and 6 both read "Reply using the All definition" in the source
  (defect D1); row 6 is tested under the reading "Reply using the External definition".

  Scenario Outline: <ref> <application>, source definition "<source definition>", between internal users
    Given an internal user "Ines"
    And an internal user "Ida"
    When Ines sends a secure message from "<application>" using the "<definition>" definition to Ida
    Then Ida gets:
      | Mail Box   | MPP   | Message in SM Portal   |
      | <Mail Box> | <MPP> | <Message in SM Portal> |

    @requires:smtp-submission
    Examples: Microsoft Office
      | ref   | application          | source definition | definition | Mail Box          | MPP               | Message in SM Portal |
      | T3-r1 | Mimecast for Outlook | All               | All        | Email with banner | Email with banner | No                   |
      | T3-r2 | Mimecast for Outlook | External          | External   | Email with banner | Email with banner | No                   |

    @requires:mpp
    Examples: Mimecast Personal Portal
      | ref   | application              | source definition | definition | Mail Box          | MPP               | Message in SM Portal |
      | T3-r3 | Mimecast Personal Portal | All               | All        | Notification      | Notification      | Yes                  |
      | T3-r4 | Mimecast Personal Portal | External          | External   | Email with banner | Email with banner | Yes                  |

    @requires:mpp @requires:sm-portal
    Examples: Secure Messaging Portal
      | ref   | application             | source definition              | definition | Mail Box          | MPP               | Message in SM Portal |
      | T3-r5 | Secure Messaging Portal | Reply using the All definition | All        | Notification      | Notification      | Yes                  |
      | T3-r6 | Secure Messaging Portal | Reply using the All definition | External   | Email with banner | Email with banner | Yes                  |

  Scenario Outline: <ref> <message> from <application> with the <definition> definition, to several internal users
    Given an internal user "Ines"
    And an internal user "Ida"
    And an internal user "Igor"
    And an internal user "Iris"
    When Ines sends <message> from "<application>" using the "<definition>" definition to Ida and Igor, copying Iris
    Then every recipient gets what the source says for them

    @requires:smtp-submission
    Examples: Microsoft Office
      | ref   | application          | definition | message                                                  |
      | T3-r1 | Mimecast for Outlook | All        | a secure message with an HTML part                       |
      | T3-r2 | Mimecast for Outlook | External   | a secure message with an HTML part                       |
      | T3-r1 | Mimecast for Outlook | All        | a secure message with an attachment                      |
      | T3-r2 | Mimecast for Outlook | External   | a long secure message                                    |
      | T3-r1 | Mimecast for Outlook | All        | a secure message with a non-ASCII subject and sender name |

    @requires:mpp
    Examples: Mimecast Personal Portal
      | ref   | application              | definition | message                            |
      | T3-r3 | Mimecast Personal Portal | All        | a secure message with an HTML part |
      | T3-r4 | Mimecast Personal Portal | External   | a secure message with an HTML part |
      | T3-r3 | Mimecast Personal Portal | All        | a long secure message              |
