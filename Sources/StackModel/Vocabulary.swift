/// Word lists the generator draws realistic Korean and English content from.
enum Vocabulary {
    static let koreanFamilyNames = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권"]
    static let koreanGivenNames = ["민준", "서연", "지훈", "하은", "도윤", "수아", "예준", "지우", "시우", "서윤",
                                   "주원", "하린", "지호", "채원", "현우", "유진", "건우", "다은", "우진", "소율"]
    static let englishFirstNames = ["Olivia", "Liam", "Emma", "Noah", "Ava", "James", "Mia", "Lucas", "Grace", "Ethan",
                                    "Chloe", "Daniel", "Nora", "Henry", "Ella", "Samuel", "Aria", "Owen", "Leah", "Jack"]
    static let englishLastNames = ["Smith", "Kim", "Park", "Johnson", "Lee", "Brown", "Garcia", "Miller", "Davis",
                                   "Wilson", "Taylor", "Clark", "Lewis", "Walker", "Young", "Allen"]
    static let romanisedFamilyNames = ["kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim",
                                       "han", "oh", "seo", "shin", "kwon"]
    static let companyStems = ["크레아티아", "한빛", "Northwind", "Blue Harbor", "새벽", "Acme", "Lumen", "다온", "Pinecone",
                               "미래", "Orbit", "Sunrise", "하늘", "Kestrel", "Granite", "누리"]
    static let companySuffixes = ["랩스", "Labs", "테크", "Systems", "스튜디오", "Works", "코리아", "Cloud"]
    static let departments = ["Engineering", "개발팀", "Design", "디자인팀", "Product", "기획팀", "QA", "Marketing", "운영팀"]
    static let positions = ["Engineer", "Senior Engineer", "Designer", "Product Manager", "팀장", "매니저", "인턴", "Lead"]
    static let plans = ["free", "team", "business", "enterprise"]

    static let koreanObjects = ["대시보드", "결제 모듈", "알림 설정", "검색 기능", "사용자 프로필", "API 문서", "배포 파이프라인",
                                "로그인 페이지", "권한 관리", "리포트 화면", "모바일 앱", "데이터 동기화"]
    static let koreanVerbs = ["개선", "버그 수정", "리팩터링", "테스트 추가", "성능 최적화", "디자인 변경", "구현", "마이그레이션"]
    static let englishObjects = ["dashboard", "billing module", "notification settings", "search", "user profile",
                                 "API docs", "deploy pipeline", "login page", "permission management", "report screen",
                                 "mobile app", "data sync"]
    static let englishVerbs = ["Fix", "Refactor", "Improve", "Add tests for", "Optimize", "Redesign", "Implement", "Migrate"]
    static let descriptions = ["사용자 경험 개선을 위한 작업", "고객 요청 사항 반영", "Follow-up from the last incident review",
                               "Reduce p99 latency of this screen", "초기 설계 및 구현", "Cover edge cases found in QA",
                               "Align with the new design system", "성능 지표 확인 후 최적화"]
    static let tags = ["frontend", "backend", "ui", "api", "database", "mobile", "infra", "security", "performance",
                       "dashboard", "docs", "testing", "결제", "검색", "알림"]
    static let labels = ["urgent", "customer-request", "tech-debt", "regression", "good-first-issue", "blocked"]
    static let taskTypes = ["feature", "bug", "chore", "improvement"]
    static let priorities = ["low", "medium", "high", "urgent"]
    static let timeEntryNotes = ["초기 설계", "구현", "코드 리뷰 반영", "Pairing session", "Investigation", "테스트 작성"]
    static let sprintGoals = ["사용자 경험 개선", "Stabilise the release", "결제 흐름 개편", "Performance sprint", "모바일 출시 준비"]
    static let wentWell = ["좋은 팀워크", "빠른 배포", "Clear sprint goal", "Fewer incidents"]
    static let toImprove = ["코드 리뷰 시간", "테스트 커버리지", "Estimation accuracy", "Scope creep"]
    static let actionItems = ["코드 리뷰 체크리스트 도입", "Add a load test to CI", "Split large tasks", "Pair on on-call"]

    /// Words worth searching for: they occur in titles, descriptions and tags.
    static let searchTerms = tags + ["dashboard", "search", "login", "billing", "대시보드", "검색", "결제", "API"]
}
