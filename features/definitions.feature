@table:definitions @requires:admin-console
Feature: The two supplied definitions
  Users of Secure Messaging - Lite cannot create their own definitions. Two are
  supplied, "All" and "External", listed in the Administration Console; they cannot
  be changed. Both carry the same five attributes.

  Scenario: Exactly two definitions are listed, All and External
    When an administrator lists the definitions in the Administration Console
    Then exactly these definitions are listed: All, External

  Scenario Outline: The <definition> definition carries the five attributes with the source's values
    When an administrator lists the definitions in the Administration Console
    Then the "<definition>" definition has these attributes:
      | attribute                                            | value        |
      | Allow External Recipients to Print                   | False        |
      | Allow External Recipients to Reply                   | True         |
      | Allow External Recipients to Reply All               | True         |
      | Expire Secure Messages for External Recipients After | Never Expire |
      | Send Read Receipt                                    | No           |

    Examples:
      | definition |
      | All        |
      | External   |

  Scenario: Creating a definition is refused and nothing changes
    When an administrator tries to create a definition called "Confidential"
    Then the Administration Console refuses the change
    And the definitions are unchanged

  Scenario Outline: <action> the <definition> definition is refused and nothing changes
    When an administrator tries to <action> the "<definition>" definition
    Then the Administration Console refuses the change
    And the definitions are unchanged

    Examples:
      | action | definition |
      | change | All        |
      | change | External   |
      | delete | All        |
      | delete | External   |

  @contract
  Scenario Outline: Sending from <application> with a definition that does not exist
    The source has exactly two definitions and is silent on a message naming another.
    docs/contract.md refuses it; handling it as All, the most protective, is as faithful
    to the source. What the target does is reported beside the verdict, never judged.
    Given an internal user "Ines"
    And an external user "Erik"
    When Ines sends a secure message from "<application>" using the "Confidential" definition to Erik
    Then the message is refused with a clear error
    And Erik receives nothing but a later message

    @requires:smtp-submission
    Examples: desktop
      | application          |
      | Mimecast for Outlook |

    @requires:mpp
    Examples: portal
      | application              |
      | Mimecast Personal Portal |
