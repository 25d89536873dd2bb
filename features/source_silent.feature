@table:other @not-specified
Feature: Where the source is silent
  These cases are not covered by any row of the source. What the target does is
  observed and reported as "not specified"; it never fails the run.

  @requires:smtp-submission @ref:X-mac
  Scenario Outline: Mimecast for Mac between internal users, <definition> definition (defect D3)
    Given an internal user "Ines"
    And an internal user "Ida"
    When Ines sends a secure message from "Mimecast for Mac" using the "<definition>" definition to Ida
    Then Ida gets:
      | Mail Box      | MPP           | Message in SM Portal |
      | not specified | not specified | not specified        |

    Examples:
      | definition |
      | All        |
      | External   |

  @requires:smtp-submission @ref:X-mixed
  Scenario Outline: One message to an internal and an external recipient, <definition> definition (defect D4)
    Given an internal user "Ines"
    And an internal user "Ida"
    And an external user "Erik"
    When Ines sends a secure message from "Mimecast for Outlook" using the "<definition>" definition to Ida and Erik
    Then Ida gets:
      | Mail Box      | MPP           | Message in SM Portal |
      | not specified | not specified | not specified        |
    And Erik gets:
      | Mail Box      | MPP           | Message in SM Portal |
      | not specified | not specified | not specified        |

    Examples:
      | definition |
      | All        |
      | External   |
