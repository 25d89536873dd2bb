@table:T2 @requires:sm-portal @requires:smtp-submission
Feature: Table 2 — External Users Replying to a Secure Message
  Source: "External Users Application / Routing Definition / Internal Recipients Application".
  The routing definition is the one of the secure message being replied to. The MPP
  and SM Portal cells are blank in the source; "Yes (derived)" follows from
  "Notification" meaning the message is ready in the SM Portal.

  Scenario Outline: <ref> an external user replies from the <application>, <definition> definition
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message from "Mimecast for Outlook" using the "<definition>" definition
    When Erik replies from the "<application>"
    Then Ines gets:
      | Mail Box   | MPP   | Message in SM Portal   |
      | <Mail Box> | <MPP> | <Message in SM Portal> |

    Examples:
      | ref   | application             | definition | Mail Box          | MPP           | Message in SM Portal |
      | T2-r1 | Secure Messaging Portal | All        | Notification      | not specified | Yes (derived)        |
      | T2-r2 | Secure Messaging Portal | External   | Email with banner | not specified | not specified        |
