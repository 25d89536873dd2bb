@table:attributes @requires:smtp-submission @requires:sm-portal
Feature: The definitions' attributes in action
  Both definitions: Allow External Recipients to Print = False, to Reply = True, to
  Reply All = True, Expire Secure Messages for External Recipients After = Never
  Expire, Send Read Receipt = No. Where a reply lands follows table 2.

  Scenario Outline: An external recipient cannot print a secure message (<definition>)
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message from "Mimecast for Outlook" using the "<definition>" definition
    When Erik opens the message in the SM Portal
    Then the SM Portal does not offer Erik printing
    And Erik's attempt to print the message is refused

    Examples:
      | definition |
      | All        |
      | External   |

  Scenario Outline: An external recipient can reply to a secure message (<definition>)
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message from "Mimecast for Outlook" using the "<definition>" definition
    When Erik replies from the "Secure Messaging Portal"
    Then the SM Portal offered Erik to reply
    And Ines receives Erik's reply

    Examples:
      | definition |
      | All        |
      | External   |

  Scenario Outline: <ref> an external recipient can reply to all; the reply lands as table 2 says (<definition>)
    Given an internal user "Ines"
    And an internal user "Ida"
    And an external user "Erik"
    And Ines has sent Erik and Ida a secure message from "Mimecast for Outlook" using the "<definition>" definition
    When Erik replies to all from the "Secure Messaging Portal"
    Then the SM Portal offered Erik to reply to all
    And Ines and Ida get:
      | Mail Box   | MPP           | Message in SM Portal   |
      | <Mail Box> | not specified | <Message in SM Portal> |

    Examples:
      | ref   | definition | Mail Box          | Message in SM Portal |
      | T2-r1 | All        | Notification      | Yes (derived)        |
      | T2-r2 | External   | Email with banner | not specified        |

  @requires:clock
  Scenario Outline: A secure message never expires for an external recipient (<definition>)
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message from "Mimecast for Outlook" using the "<definition>" definition
    When the target's clock moves forward 10 years
    Then Erik can still read the message in the SM Portal
    And the SM Portal shows Erik that the message never expires

    Examples:
      | definition |
      | All        |
      | External   |

  @requires:clock
  Scenario Outline: However old a secure message grows, an external recipient cannot print it (<definition>)
    Never Expire keeps the message readable at any age; nothing limits Allow External
    Recipients to Print = False in time.
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message from "Mimecast for Outlook" using the "<definition>" definition
    And the target's clock has moved forward 2 years
    When Erik opens the message in the SM Portal
    Then the SM Portal does not offer Erik printing
    And Erik's attempt to print the message is refused

    Examples:
      | definition |
      | All        |
      | External   |

  @requires:clock
  Scenario Outline: However old a secure message grows, an external recipient can reply to it (<definition>)
    Never Expire keeps the message readable at any age; nothing limits Allow External
    Recipients to Reply = True in time.
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message from "Mimecast for Outlook" using the "<definition>" definition
    And the target's clock has moved forward 2 years
    When Erik replies from the "Secure Messaging Portal"
    Then the SM Portal offered Erik to reply
    And Ines receives Erik's reply

    Examples:
      | definition |
      | All        |
      | External   |

  Scenario Outline: The sender never receives a read receipt (<definition>)
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message asking for a read receipt, using the "<definition>" definition
    When Erik opens the message in the SM Portal
    Then Ines receives no read receipt

    Examples:
      | definition |
      | All        |
      | External   |

  Scenario Outline: <ref> reply all reaches everyone else on the message, in To and Cc, and not the replier (<definition>)
    Allow External Recipients to Reply All = True: the reply goes to the sender and to
    every other recipient the message named, whether in To or in Cc.
    Given an internal user "Ines"
    And an internal user "Ida"
    And an external user "Erik"
    And an external user "Eva"
    And Ines has sent Erik and Ida a secure message from "Mimecast for Outlook" using the "<definition>" definition, copying Eva
    When Erik replies to all from the "Secure Messaging Portal"
    Then everyone else on the message gets Erik's reply, as the source says for them
    And Erik receives nothing but a later message
    And Ines receives no read receipt

    Examples:
      | ref   | definition |
      | T2-r1 | All        |
      | T2-r2 | External   |

  Scenario Outline: A secure message asking for a read receipt reaches its recipients without the request (<definition>)
    Send Read Receipt = No: no delivered copy asks the recipient's mail program for one.
    Given an internal user "Ines"
    And an internal user "Ida"
    And an external user "Erik"
    When Ines sends a secure message asking for a read receipt from "Mimecast for Outlook" using the "<definition>" definition to Erik, copying Ida
    Then every recipient gets what the source says for them

    Examples:
      | ref         | definition |
      | T1-r1 T3-r1 | All        |
      | T1-r1 T3-r2 | External   |

  Scenario Outline: The sender receives no read receipt after a reply either (<definition>)
    Given an internal user "Ines"
    And an external user "Erik"
    And Ines has sent Erik a secure message asking for a read receipt, using the "<definition>" definition
    When Erik replies from the "Secure Messaging Portal"
    Then Ines receives Erik's reply
    And Ines receives no read receipt

    Examples:
      | definition |
      | All        |
      | External   |
