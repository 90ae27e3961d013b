// Fictional example notes for the demo, written in the shorthand clinicians use. No real people or places.
// `codes` is how a careful coder would code each note under the co-response framework (shared/framework.md).

/** @type {{id: string, title: string, text: string, codes: string[]}[]} */
export const EXAMPLES = [
  {
    id: 'overpass',
    title: 'Overpass call',
    text:
      'CR responded w/ ofcs to a call re: male in his 30s standing at the overpass railing. ' +
      'Met w/ Sgt on arrival, who reported pt had been talking about jumping. ' +
      'Clinician approached and spoke w/ pt for approx 20 min. ' +
      'Pt tearful and hopeless, endorsed SI w/ plan to jump, states he lost his job last week. ' +
      'Pt reports hx of MDD and one prior psych hospitalization. ' +
      'Clinician advised ofcs to keep their distance and let CR lead the conversation. ' +
      'Pt agreed to a voluntary eval at ED.',
    codes: [
      'interacted.police', 'interacted.individual', 'assessed.symptoms', 'assessed.history', 'assessed.risk',
      'provided.clinical', 'provided.police',
    ],
  },
  {
    id: 'follow-up',
    title: 'Follow-up with wife',
    text:
      "F/u call to pt's wife after CR visit on Monday. " +
      'Wife reports pt has not slept in 3 days, talking fast and spending money they do not have. ' +
      'She states pt was dx w/ bipolar d/o in his 20s and stopped his lithium last month. ' +
      'Wife denies weapons in the home, no threats made. ' +
      'Reviewed warning signs w/ wife and gave info on the urgent psychiatry walk-in clinic. ' +
      'CR also gave her the number of the local food pantry as they are behind on groceries.',
    codes: [
      'interacted.family', 'assessed.symptoms', 'assessed.history', 'assessed.risk', 'provided.clinical',
      'provided.general',
    ],
  },
  {
    id: 'welfare-check',
    title: 'Welfare check',
    text:
      'Ofcs requested CR for a welfare check on an elderly woman living alone. ' +
      'Pt confused, oriented to self only. ' +
      'Apartment has no working heat and very little food. ' +
      "Spoke w/ pt's daughter by phone, who reports pt has a dementia dx and has missed her last PCP appts. " +
      'Filed a report w/ elder protective services. ' +
      "CR arranged a ride to daughter's home for the night and a referral to the meals program.",
    codes: [
      'interacted.family', 'interacted.provider', 'assessed.symptoms', 'assessed.history', 'assessed.risk',
      'provided.clinical', 'provided.general',
    ],
  },
  {
    id: 'group-home',
    title: 'Group home',
    text:
      'CR called to group home for a 15 yo who barricaded himself in his room after an argument w/ staff. ' +
      'Staff report pt threw a chair and threatened to hurt a peer. ' +
      'CR spoke w/ pt through the door and pt came out after 10 min. ' +
      'Pt irritable but calm by end of contact, no AH/VH. ' +
      'Pt denied SI/HI. ' +
      "Completed safety plan w/ pt and staff, left msg for pt's OP therapist. " +
      'Advised ofcs that no further police action was needed and they cleared.',
    codes: [
      'interacted.police', 'interacted.individual', 'interacted.provider', 'assessed.symptoms', 'assessed.risk',
      'provided.clinical', 'provided.police',
    ],
  },
];
