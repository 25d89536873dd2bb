@table:T3 @requires:smtp-submission
Feature: Table 3 with real mail — the Email with banner is the whole message
  Rows 1 and 2 of table 3 give an internal recipient the "Email with banner": the email
  itself, with the banner. Messages nobody on this project wrote (features/mail/: CPython's
  test_email data and Mailpit's test messages, with their licences) are sent as written.
  Every part of the original must arrive (text, enclosed messages, delivery reports,
  signatures, attachments byte for byte), with one banner where a reader looks first.

  Scenario Outline: <ref> <what>, with the <definition> definition, between internal users
    Given an internal user "Ines"
    And an internal user "Ida"
    When Ines sends the message file "<file>" from "Mimecast for Outlook" using the "<definition>" definition to Ida
    Then every recipient gets what the source says for them

    Examples:
      | ref   | what                                          | file                          | definition |
      | T3-r1 | a mailing-list digest of enclosed messages    | cpython/msg_02.txt            | All        |
      | T3-r2 | a delivery status report (RFC 3464)           | cpython/msg_16.txt            | External   |
      | T3-r1 | a message with no text/plain or text/html     | cpython/msg_37.txt            | All        |
      | T3-r2 | alternatives, related images and a PDF        | mailpit/mime-attachment.eml   | External   |
      | T3-r1 | a text with a GIF attachment                  | cpython/msg_07.txt            | All        |
      | T3-r2 | a forwarded message and nothing else          | cpython/msg_46.txt            | External   |
      | T3-r1 | a signed message (multipart/signed)           | cpython/msg_45.txt            | All        |
      | T3-r2 | text and HTML parts in several charsets       | cpython/msg_10.txt            | External   |
      | T3-r1 | an HTML body with inline image and PDF        | mailpit/mixed-attachment.eml  | All        |
      | T3-r2 | nested mixed parts with an image              | cpython/msg_13.txt            | External   |
      | T3-r1 | an HTML body with a PDF attachment            | mailpit/regular-attachment.eml | All       |
      | T3-r2 | two text files attached and no body           | cpython/msg_04.txt            | External   |
