Feature: Which recipients are internal
  The source never defines "internal"; the profile declares the target's internal
  domains (internal_domains) and docs/contract.md matches a recipient's domain against
  them exactly and case-insensitively. Each scenario makes its address from one of
  those domains (seeded): in mixed case (still internal: derived, domains are
  case-insensitive, RFC 5321 §2.4), with letters glued in front (another domain:
  derived), or as a sub-domain (external by the contract's exact match: contract).
  Each recipient is judged by the table that applies to them (T1 external, T3 internal).

  @table:T3
  Scenario Outline: <ref> <application> with the <definition> definition, to an internal user whose address writes the domain in mixed case
    The recipient's domain is one of the target's internal domains (the profile's
    internal_domains), its letters in mixed case (seeded). Domains are case-insensitive
    (RFC 5321 §2.4), so the recipient is internal and the row applies: derived.
    Given an internal user "Ines"
    And an internal user "Ida" whose address writes an internal domain in mixed case
    When Ines sends a secure message from "<application>" using the "<definition>" definition to Ida
    Then Ida gets:
      | Mail Box   | MPP   | Message in SM Portal   |
      | <Mail Box> | <MPP> | <Message in SM Portal> |

    @requires:smtp-submission
    Examples: Microsoft Office
      | ref   | application          | definition | Mail Box                    | MPP                         | Message in SM Portal |
      | T3-r1 | Mimecast for Outlook | All        | Email with banner (derived) | Email with banner (derived) | No (derived)         |

    @requires:mpp
    Examples: Mimecast Personal Portal
      | ref   | application              | definition | Mail Box                    | MPP                         | Message in SM Portal |
      | T3-r3 | Mimecast Personal Portal | All        | Notification (derived)      | Notification (derived)      | Yes (derived)        |
      | T3-r4 | Mimecast Personal Portal | External   | Email with banner (derived) | Email with banner (derived) | Yes (derived)        |

  @table:T1
  Scenario Outline: <ref> <application> with the <definition> definition, to a look-alike of an internal domain
    The recipient's domain ends with the text of one of the target's internal domains (the
    profile's internal_domains, seeded: letters glued in front, no dot) but is another domain,
    so the recipient is external (derived: a domain is its whole name, RFC 5321 §2.3.5).
    Given an internal user "Ines"
    And an external user "Xena" at a domain that ends with an internal domain's name
    When Ines sends a secure message from "<application>" using the "<definition>" definition to Xena
    Then Xena gets:
      | Mail Box                | MPP           | Message in SM Portal |
      | Notification (derived)  | not specified | Yes (derived)        |

    @requires:smtp-submission
    Examples: desktop applications
      | ref   | application          | definition |
      | T1-r1 | Mimecast for Outlook | All        |
      | T1-r1 | Mimecast for Mac     | External   |

    @requires:mpp
    Examples: the Mimecast Personal Portal
      | ref   | application              | definition |
      | T1-r1 | Mimecast Personal Portal | All        |

  @table:T1 @contract
  Scenario Outline: <ref> <application> with the <definition> definition, to a sub-domain of an internal domain
    The source never defines "internal". docs/contract.md does: the recipient's domain is one of
    the profile's internal_domains, exact match, case-insensitive — so a sub-domain (a label and
    a dot in front of an internal domain, seeded) is external. A target that counts sub-domains
    as internal is as faithful to the source: level contract, a difference beside the verdict.
    Given an internal user "Ines"
    And an external user "Sam" at a sub-domain of an internal domain
    When Ines sends a secure message from "<application>" using the "<definition>" definition to Sam
    Then Sam gets:
      | Mail Box     | MPP           | Message in SM Portal |
      | Notification | not specified | Yes (derived)        |

    @requires:smtp-submission
    Examples: desktop applications
      | ref   | application          | definition |
      | T1-r1 | Mimecast for Outlook | External   |
