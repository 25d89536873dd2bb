@table:T1 @requires:smtp-submission
Feature: Table 1 with real mail — the message in the SM Portal is the whole message
  Row 1 of table 1 gives an external recipient a notification that the message is ready
  in the SM Portal: the message, not its first paragraph. Messages nobody on this project
  wrote (features/mail/) are sent as written; where the target declares
  sm-portal-whole-message, its SM Portal must show every part and offer every attachment,
  byte for byte.

  Scenario Outline: <ref> <what>, with the <definition> definition, to an external recipient
    Given an internal user "Ines"
    And an external user "Erik"
    When Ines sends the message file "<file>" from "Mimecast for Outlook" using the "<definition>" definition to Erik
    Then every recipient gets what the source says for them

    Examples:
      | ref   | what                                          | file                          | definition |
      | T1-r1 | alternatives, related images and a PDF        | mailpit/mime-attachment.eml   | All        |
      | T1-r1 | a mailing-list digest of enclosed messages    | cpython/msg_02.txt            | External   |
      | T1-r1 | a delivery status report (RFC 3464)           | cpython/msg_16.txt            | All        |
      | T1-r1 | a text with a GIF attachment                  | cpython/msg_07.txt            | External   |
      | T1-r1 | a forwarded message and nothing else          | cpython/msg_46.txt            | All        |
      | T1-r1 | a message with no text/plain or text/html     | cpython/msg_37.txt            | External   |
